/** Public surface of the media platform module (probe, argv builders, runner, QC, ingest). */
export * from './binaries';
export * from './broadcast';
export * from './broadcast-args';
export * from './errors';
export * from './ingest';
export * from './ingest-args';
export * from './input-guard';
export * from './loudness';
export * from './probe';
export * from './qc';
export * from './runner';
export * from './sniff';
export * from './source-analysis';
export * from './pack';
export * from './pack-args';
