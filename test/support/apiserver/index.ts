export { FakeApiServer } from './server.ts';
export type { ApiServerOptions, Obj, RequestRecord } from './server.ts';
export { RESOURCE_TYPES } from './resources.ts';
