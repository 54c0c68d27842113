// panva's oidc-provider as an upstream for Portico's federation tests.
//
// Environment: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS (comma separated),
// PACKAGE_JSON (the package.json of the folder oidc-provider is installed in).
// Uses the built-in development interactions (any login and password sign in);
// every account has a verified email <login>@oidc-provider.example.
import { createRequire } from 'node:module';

const env = process.env;
const require = createRequire(env.PACKAGE_JSON);
const { default: Provider } = await import(require.resolve('oidc-provider'));

const PORT = Number(env.PORT);
const ISSUER = `http://127.0.0.1:${PORT}`;

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: env.CLIENT_ID,
    client_secret: env.CLIENT_SECRET,
    redirect_uris: env.REDIRECT_URIS.split(','),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  cookies: { keys: ['portico-federation-test-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'] },
  pkce: { required: () => true },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@oidc-provider.example`,
      email_verified: true, name: `${id[0].toUpperCase()}${id.slice(1)} Panva`,
      preferred_username: id }),
  }),
  features: { devInteractions: { enabled: true } },
});
provider.listen(PORT, '127.0.0.1', () => console.log(`ready ${ISSUER}`));
