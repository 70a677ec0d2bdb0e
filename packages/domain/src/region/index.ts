/** The region's view, pure: the heartbeat a node sends the hub, hub roles, conditions and early warning. */
export * from './heartbeat.ts';
export * from './rules.ts';
export * from './api.ts';
export * from './incidents.ts';
export * from './health.ts';
