export { startMarketigerSimulator } from './marketigerSimulator.js';
export type { MarketigerSimulator, MarketigerSimulatorOptions, MarketigerSimUser } from './marketigerSimulator.js';
export { startMrkterSimulator } from './mrkterSimulator.js';
export type { MrkterSimulator, MrkterSimulatorOptions, MrkterSimUser } from './mrkterSimulator.js';
export { HTML_ERROR_PAGE, startSimServer } from './simServer.js';
export type { RouteKey, SimFault, SimHandler, SimLogEntry, SimRequest, SimResponse, SimServer, SimServerOptions } from './simServer.js';
