/** The store contract as the server uses it; the one place that names the store module. */
export type { JsonObject, KeyValue, ListResult, Store, StoreEvent } from '../store/index.js';
