// panva's oidc-provider, configured like Portico for bench/run.py.
//
// Environment: PORT, ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, USERNAME, PASSWORD,
// BCRYPT_ROUNDS (default 12). Install with `npm install --prefix bench/.node oidc-provider bcrypt`.
//
// Equivalence with Portico: RS256 + ES256 signing keys (RSA 2048, P-256), one confidential
// client (client_secret_basic; authorization_code, refresh_token, client_credentials), PKCE
// required, refresh tokens rotated, introspection and revocation on, one account whose
// password is checked with bcrypt (native `bcrypt`, off the event loop like Portico's
// asyncio.to_thread). The login page is a small hand-written interaction (devInteractions
// does not check passwords); it grants the requested scopes at once, like Portico's
// first-party clients that skip consent. client_credentials tokens are RFC 9068 JWTs through
// resource indicators: resource=urn:bench:rs256 or urn:bench:es256 picks the algorithm.
import { createRequire } from 'node:module';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '.node', 'package.json'));
const { default: Provider } = await import(require.resolve('oidc-provider'));
const bcrypt = require('bcrypt');

const env = process.env;
const PORT = Number(env.PORT || 3000);
const ISSUER = env.ISSUER || `http://127.0.0.1:${PORT}`;
const USERNAME = env.USERNAME || 'alice';
const PASSWORD_HASH = bcrypt.hashSync(env.PASSWORD || 'Correct-horse-1',
  Number(env.BCRYPT_ROUNDS || 12));
const ACCOUNT_ID = 'u-alice';

const jwk = (alg, opts) => {
  const { privateKey } = generateKeyPairSync(alg, opts);
  return privateKey.export({ format: 'jwk' });
};
const rsa = { ...jwk('rsa', { modulusLength: 2048 }), alg: 'RS256', use: 'sig', kid: 'rs1' };
const ec = { ...jwk('ec', { namedCurve: 'P-256' }), alg: 'ES256', use: 'sig', kid: 'es1' };

const RESOURCES = { 'urn:bench:rs256': 'RS256', 'urn:bench:es256': 'ES256' };

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: env.CLIENT_ID || 'bench',
    client_secret: env.CLIENT_SECRET || 'bench-secret-bench-secret-bench-secret',
    redirect_uris: [env.REDIRECT_URI || 'http://127.0.0.1:9/cb'],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    scope: 'openid profile email offline_access api',
  }],
  jwks: { keys: [rsa, ec] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', 'profile', 'email', 'offline_access', 'api'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  pkce: { required: () => true },
  rotateRefreshToken: true,
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: { AccessToken: 900, ClientCredentials: 900, IdToken: 3600, RefreshToken: 7 * 86400,
    AuthorizationCode: 60, Session: 86400, Interaction: 600, Grant: 86400 },
  findAccount: async (ctx, id) => (id === ACCOUNT_ID ? {
    accountId: id,
    claims: async () => ({ sub: id, email: 'alice@example.org', email_verified: true,
      name: 'Alice' }),
  } : undefined),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    revocation: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => false,
      getResourceServerInfo: (ctx, resource) => {
        const alg = RESOURCES[resource];
        if (!alg) throw new Provider.errors.InvalidTarget();
        return { scope: 'api', audience: resource, accessTokenTTL: 900,
          accessTokenFormat: 'jwt', jwt: { sign: { alg } } };
      },
    },
  },
});
provider.proxy = false;

const page = (uid, message = '') => `<!doctype html><title>Sign in</title><p>${message}</p>
<form method="post" action="/interaction/${uid}/login">
<input name="login"><input name="password" type="password"><button>Sign in</button></form>`;

const readForm = (req) => new Promise((resolve, reject) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { body += c; if (body.length > 1e5) req.destroy(); });
  req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(body))));
  req.on('error', reject);
});

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const html = (status, text) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(text);
  };
  if (req.method === 'GET') return html(200, page(details.uid));
  const form = await readForm(req);
  const ok = form.login === USERNAME && await bcrypt.compare(form.password || '', PASSWORD_HASH);
  if (!ok) return html(401, page(details.uid, 'Wrong username or password'));
  const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, {
    login: { accountId: ACCOUNT_ID }, consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(String(err && err.message));
    });
  } else {
    callback(req, res);
  }
}).listen(PORT, '127.0.0.1', () => console.log(`peer listening on ${ISSUER}`));
