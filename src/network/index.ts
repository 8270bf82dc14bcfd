/** Public face of src/network, the data plane: for now the agent tunnel (later the gateway and service listeners, DESIGN section 13). */
export * from './tunnel/index.js';
