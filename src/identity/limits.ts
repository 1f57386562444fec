// The limits of a block's parameters: one rule each, used by the CLI, the
// CSI controller and the engine alike, so a value one layer accepts is never
// refused by the next after something was written.
//
// ha: one portal per HA node, each a path of the initiator's multipath map;
// 16 is more than any replica count Gluster supports for a hosting volume.
// ring-buffer: tcmu's max_data_area_mb. io-timeout: tcmu-runner's per-command
// timeout (the original's default 43 s; an hour is already past every
// initiator's patience). block size: the logical block sizes LIO's user
// backstore takes (hw_block_size).
export interface Range {
  readonly min: number;
  readonly max: number;
}

export const HA_COUNT: Range = { min: 1, max: 16 };
export const RING_BUFFER_MB: Range = { min: 1, max: 1024 };
export const IO_TIMEOUT_SEC: Range = { min: 1, max: 3600 };
export const BLOCK_SIZES: readonly number[] = [512, 1024, 2048, 4096];

export const inRange = (n: number, r: Range): boolean => Number.isInteger(n) && n >= r.min && n <= r.max;
