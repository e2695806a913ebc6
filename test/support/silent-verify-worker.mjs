// A verify worker that takes its jobs and never answers: what a worker busy for a long time looks like to the pool.
import { parentPort } from 'node:worker_threads'
parentPort.on('message', () => {})
