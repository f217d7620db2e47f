/** The shape of bench/results.json, the machine it ran on, and the targets (issues 7 and 16). */
import { cpus, totalmem } from 'node:os';
import type { AuthLayerResult } from './authLayer.js';
import type { BundleResult } from './bundle.js';
import type { Sizes } from './common.js';
import type { FleetResult } from './fleet.js';
import type { FlowResult } from './flows.js';
import type { ImportTimeResult } from './importTime.js';
import type { PathResult } from './paths.js';
import type { PerRequestResult } from './perRequest.js';
import type { StormFigures } from './storm.js';

export interface MachineInfo {
  cores: number;
  cpu_model: string;
  memory_gib: number;
  node: string;
  platform: string;
}

export interface Target {
  key: string;
  value: number;
  target: string;
  /** `null` for a figure that is reported beside an anchor rather than held to a target. */
  met: boolean | null;
}

export interface BenchResults {
  mode: 'full' | 'quick';
  date: string;
  command: string;
  machine: MachineInfo;
  sizes: Sizes;
  /** CPU µs per request the authorized client adds to plain axios, on an adapter that answers at once. */
  auth_layer_us: number;
  overhead_ratio: number;
  axios_auth_refresh_overhead_ratio: number;
  storm: Omit<StormFigures, 'per_round'> & {
    burst: number;
    rounds: number;
    per_round: StormFigures['per_round'];
    axios_auth_refresh: StormFigures;
    axios_auth_refresh_no_dedup: StormFigures;
  };
  flow_ratio: { marketiger: number; mrkter: number };
  session_heap_bytes: number;
  refresh_spread_s: number;
  /** Gzipped bytes each use case loads at start (xstate and axios external). */
  bundle_gzip_bytes: { marketiger: number; mrkter: number; all: number };
  /** Cold `require` and `import()` of the built package, ms. */
  import_ms: { require: number; import: number };
  path_generation_ms: { marketiger: number; mrkter: number };
  details: {
    auth_layer: AuthLayerResult;
    per_request: PerRequestResult;
    flows: FlowResult;
    fleet: FleetResult;
    bundle: BundleResult;
    paths: PathResult;
    import_time: ImportTimeResult;
  };
  targets: Target[];
  duration_s: number;
}

export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpu_model: cpu[0]?.model.trim() ?? 'unknown',
    memory_gib: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Kibibytes the bundle targets are written in. */
export const bundleTargets = { marketiger: 8, mrkter: 9, all: 12 } as const;

/** The targets of issues 7 and 16, judged against this run's figures. */
export function targetsOf(r: BenchResults): Target[] {
  const at = (key: string, value: number, target: string, met: boolean | null): Target => ({
    key,
    value,
    target,
    met,
  });
  const axios = r.details.import_time.axios_ms;
  const bytes = (name: keyof typeof bundleTargets) =>
    at(
      `bundle_gzip_bytes.${name}`,
      r.bundle_gzip_bytes[name],
      `≤ ${bundleTargets[name] * 1024} (${bundleTargets[name]} KiB)`,
      r.bundle_gzip_bytes[name] <= bundleTargets[name] * 1024,
    );
  return [
    at('auth_layer_us', r.auth_layer_us, '≤ 3', r.auth_layer_us <= 3),
    at('overhead_ratio', r.overhead_ratio, '≤ 1.03', r.overhead_ratio <= 1.03),
    at('storm.refreshes', r.storm.refreshes, '= 1', r.storm.refreshes === 1),
    at('storm.successes', r.storm.successes, `= ${r.storm.burst}`, r.storm.successes === r.storm.burst),
    at('storm.ratio', r.storm.ratio, '≤ 2.2', r.storm.ratio <= 2.2),
    at('flow_ratio.marketiger', r.flow_ratio.marketiger, '≤ 1.10', r.flow_ratio.marketiger <= 1.1),
    at('flow_ratio.mrkter', r.flow_ratio.mrkter, '≤ 1.10', r.flow_ratio.mrkter <= 1.1),
    at('session_heap_bytes', r.session_heap_bytes, '≤ 8192', r.session_heap_bytes <= 8192),
    at('refresh_spread_s', r.refresh_spread_s, '≥ 30', r.refresh_spread_s >= 30),
    bytes('marketiger'),
    bytes('mrkter'),
    bytes('all'),
    at('import_ms.require', r.import_ms.require, `(axios alone: ${axios.require})`, null),
    at('import_ms.import', r.import_ms.import, `(axios alone: ${axios.import})`, null),
  ];
}
