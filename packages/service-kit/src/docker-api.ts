/** What the services that hold a Docker client share about its answers (dockerode errors carry `statusCode`). */

/** Whether a Docker API error has this HTTP status (404: gone, 409: conflict or removal in progress). */
export const isDockerStatus = (err: unknown, status: number): boolean => (err as { statusCode?: number } | null)?.statusCode === status;

/** Whether the engine answers its ping: health checks report it, never throw. */
export async function dockerAnswers(docker: { ping(): Promise<unknown> }): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}
