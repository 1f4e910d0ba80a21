// The argon2id cost of bench/sign-in.mjs: COUNT password verifications with the server's own verifyPassword
// (argon2id at its default cost) on a hash of its own hashPassword, CONCURRENCY at a time (as many as the
// flows in flight of the run it is compared with: verifications sharing one core interleave and each costs more
// CPU than one alone), after a few unmeasured ones (the native module loaded, libuv's pool started). Prints JSON:
// count, concurrency, the process's CPU time (user + system, all threads: process.cpuUsage) and wall time per
// verification.
//   node bench/sign-in-argon2.mjs <count> <concurrency>
import { hashPassword, verifyPassword } from '@tessera/server/internal';

const COUNT = Number(process.argv[2] ?? 50);
const CONCURRENCY = Number(process.argv[3] ?? 1);
const PASSWORD = 'correct horse battery staple';
const hash = await hashPassword(PASSWORD);
let left = 0;
async function worker() {
  while (left-- > 0) if (!(await verifyPassword(hash, PASSWORD))) throw new Error('the password did not verify');
}
const verifyAll = (n) => {
  left = n;
  return Promise.all(Array.from({ length: CONCURRENCY }, worker));
};
await verifyAll(3 * CONCURRENCY);
const cpu = process.cpuUsage();
const started = performance.now();
await verifyAll(COUNT);
const wallMs = performance.now() - started;
const { user, system } = process.cpuUsage(cpu);
console.log(
  JSON.stringify({
    count: COUNT,
    concurrency: CONCURRENCY,
    cpuUsPerVerification: Math.round((user + system) / COUNT),
    wallMsPerVerification: Math.round((wallMs / COUNT) * 100) / 100,
  }),
);
