/** Public face of src/cli: the skyctl program, for the bin and for tests. */
export { main, buildProgram, addGlobals, VERSION } from './main.js';
export type { Io, Output } from './runtime.js';
export { configPath, loadConfig, saveConfig, saveCurrentContext, DEFAULT_SERVER } from './config.js';
export type { SkyConfig, Context } from './config.js';
