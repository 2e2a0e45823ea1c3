import { startProcess, type ServiceProcess } from './process.js';

/**
 * Kills a service process (SIGKILL: a crash, not a goodbye) and starts the same entry point again on
 * the same port, as a supervisor would, so everything that calls it finds it where it was.
 */
export async function restartProcess(
  service: ServiceProcess,
  entry: string,
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<ServiceProcess> {
  await killProcess(service);
  return startProcess(entry, { ...env, PORT: new URL(service.url).port }, timeoutMs);
}

export async function killProcess(service: ServiceProcess): Promise<void> {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
