/** Version of the subject catalogue and message schemas. Bumped on any breaking change. */
export const CONTRACTS_VERSION = 'v1' as const;
