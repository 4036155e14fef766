/** Public surface of the media platform module (probe, argv builders, runner, QC, ingest). */
export * from './binaries';
export * from './errors';
export * from './ingest';
export * from './ingest-args';
export * from './input-guard';
export * from './probe';
export * from './qc';
export * from './runner';
export * from './sniff';
