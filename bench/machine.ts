/**
 * The machine a benchmark ran on (CPU, cores, memory, Deno and V8), recorded
 * beside every figure so that figures from different machines are never compared.
 *
 * @module
 */

import { cpus } from "node:os";

/** Machine and runtime description. */
export interface MachineInfo {
  deno: string;
  v8: string;
  typescript: string;
  hardwareConcurrency: number;
  os: string;
  arch: string;
  target: string;
  /** CPU model (needs `--allow-sys`). */
  cpu: string | null;
  /** 1, 5, 15-minute load averages at the start (needs `--allow-sys`). */
  loadavgStart: number[] | null;
  /** Load averages at the end (needs `--allow-sys`). */
  loadavgEnd: number[] | null;
}

/**
 * Runtime and machine description; the CPU model and load average only when
 * `--allow-sys` is given (they are never prompted for).
 *
 * @returns The description (load average at the start only).
 */
export function machineInfo(): MachineInfo {
  let model: string | null = null;
  if (sysGranted("cpus")) {
    try {
      model = cpus()[0]?.model ?? null;
    } catch {
      model = null;
    }
  }
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    hardwareConcurrency: navigator.hardwareConcurrency,
    os: Deno.build.os,
    arch: Deno.build.arch,
    target: Deno.build.target,
    cpu: model,
    loadavgStart: loadavg(),
    loadavgEnd: null,
  };
}

/**
 * The machine line(s) of a report.
 *
 * @param m The machine description.
 * @returns The lines.
 */
export function machineLines(m: MachineInfo): string[] {
  const lines = [
    `  machine: Deno ${m.deno} (V8 ${m.v8}, TS ${m.typescript}), ${m.os}/${m.arch}, ` +
    `${m.hardwareConcurrency} hardware threads${m.cpu ? `, ${m.cpu}` : ""}`,
  ];
  if (m.loadavgStart) {
    lines.push(
      `  loadavg: start ${m.loadavgStart.join(" ")}` +
        (m.loadavgEnd ? `; end ${m.loadavgEnd.join(" ")}` : ""),
    );
  } else lines.push("  (run with --allow-sys to record the CPU model and load average)");
  return lines;
}

/** Whether a sys permission is granted, without prompting. */
function sysGranted(kind: "loadavg" | "cpus"): boolean {
  try {
    return Deno.permissions.querySync({ name: "sys", kind }).state === "granted";
  } catch {
    return false;
  }
}

export function loadavg(): number[] | null {
  return sysGranted("loadavg") ? Deno.loadavg() : null;
}
