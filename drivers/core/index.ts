/** drivers/core: the driver contract, the tag and value model, typed errors. */
export * from './driver.ts';
export * from './errors.ts';
export * from './host.ts';
export * from './latest-values.ts';
export * from './model.ts';
export * from './schema.ts';
export * from './value-columns.ts';
