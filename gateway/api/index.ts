/** gateway/api: the typed operations and the call context, shared with the bridge. */
export * from './call-context.ts';
export * from './operations.ts';
