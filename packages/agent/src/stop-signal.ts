/** Thrown out of waits when the agent is stopping; the work resumes after the next start. */
export class StoppedError extends Error {
  constructor() {
    super('the agent is stopping');
    this.name = 'StoppedError';
  }
}
