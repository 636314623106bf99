/**
 * What went wrong reaching PostgreSQL, in words an operator acts on: the SQLSTATE or socket code alone
 * (`3D000`, `28P01`, `ECONNREFUSED`) names no fix. Never includes the password.
 */
export function describeConnectionProblem(databaseUrl: string, error: unknown): string {
  const url = new URL(databaseUrl);
  const host = `${url.hostname}:${url.port || 5432}`;
  const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || decodeURIComponent(url.username) || "postgres";
  const user = decodeURIComponent(url.username) || "(your OS user)";
  const code = (error as { code?: string }).code ?? "";
  const detail = code || (error as Error).message;
  switch (code) {
    case "3D000":
      return `names database "${database}" on ${host}, which does not exist (3D000): create it (createdb -h ${url.hostname} -p ${url.port || 5432} -U ${user} ${database}) or fix the name`;
    case "28P01":
    case "28000":
      return `was refused by PostgreSQL at ${host}: authentication failed for user "${user}" (${code}): check the user and password in the URL and the server's pg_hba.conf`;
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `points at ${host}, where no PostgreSQL server answers (${code}): start the server (pg_isready -h ${url.hostname} -p ${url.port || 5432}) or fix the host and port`;
    case "42501":
      return `connects as "${user}", who may not use database "${database}" on ${host} (42501): grant CONNECT and CREATE on it, or connect as its owner`;
    case "53300":
      return `reached ${host}, which has too many connections (53300): lower DATABASE_POOL_SIZE or raise max_connections`;
    default:
      return `could not connect to PostgreSQL at ${host}/${database} (${detail})`;
  }
}
