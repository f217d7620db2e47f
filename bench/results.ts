/** The shape of bench/results.json, the machine it ran on, and the targets of issue 7. */
import { cpus, totalmem } from 'node:os';
import type { BundleResult } from './bundle.js';
import type { Sizes } from './common.js';
import type { FleetResult } from './fleet.js';
import type { FlowResult } from './flows.js';
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
  met: boolean;
}

export interface BenchResults {
  mode: 'full' | 'quick';
  date: string;
  command: string;
  machine: MachineInfo;
  sizes: Sizes;
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
  bundle_gzip_bytes: number;
  path_generation_ms: { marketiger: number; mrkter: number };
  details: {
    per_request: PerRequestResult;
    flows: FlowResult;
    fleet: FleetResult;
    bundle: BundleResult;
    paths: PathResult;
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

/** The targets of issue 7, judged against this run's figures. */
export function targetsOf(r: BenchResults): Target[] {
  const at = (key: string, value: number, target: string, met: boolean): Target => ({
    key,
    value,
    target,
    met,
  });
  return [
    at('overhead_ratio', r.overhead_ratio, '≤ 1.05', r.overhead_ratio <= 1.05),
    at('storm.refreshes', r.storm.refreshes, '= 1', r.storm.refreshes === 1),
    at('storm.successes', r.storm.successes, `= ${r.storm.burst}`, r.storm.successes === r.storm.burst),
    at('storm.ratio', r.storm.ratio, '≤ 2.2', r.storm.ratio <= 2.2),
    at('flow_ratio.marketiger', r.flow_ratio.marketiger, '≤ 1.10', r.flow_ratio.marketiger <= 1.1),
    at('flow_ratio.mrkter', r.flow_ratio.mrkter, '≤ 1.10', r.flow_ratio.mrkter <= 1.1),
    at('session_heap_bytes', r.session_heap_bytes, '≤ 8192', r.session_heap_bytes <= 8192),
    at('refresh_spread_s', r.refresh_spread_s, '≥ 30', r.refresh_spread_s >= 30),
    at('bundle_gzip_bytes', r.bundle_gzip_bytes, '≤ 8192', r.bundle_gzip_bytes <= 8192),
  ];
}
