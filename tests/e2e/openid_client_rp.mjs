// A relying party built from panva's openid-client (npm), driven by
// tests/e2e/test_openid_client_rp.py.
//
// Protocol, one JSON object per line:
//   stdin, first line      {"issuer", "client_id", "redirect_uri", "post_logout_redirect_uri",
//                           "auth": "client_secret_basic" with "client_secret", or
//                           "private_key_jwt" with "private_jwk" (an ES256 P-256 JWK),
//                           optional "metadata": client metadata such as signing algs}
//   stdout  {"visit": url}  the test opens url in its browser (signing in if asked)...
//   stdin   {"location": u} ...and answers where Portico sent the browser (not followed)
//   stdout  {"done": {...}} what openid-client saw, for the test to assert on
//   stdout  {"error": "...", "stack": "..."} and exit code 1 when something threw
//
// openid-client and the line protocol's plumbing come from openid_client_harness.mjs.

import { client, receive, run, send } from "./openid_client_harness.mjs";

async function visit(url) {
  send({ visit: url.href });
  return (await receive()).location;
}

// The error code an openid-client call failed with, or null when it succeeded.
async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    if (err instanceof client.ResponseBodyError) return err.error;
    if (err instanceof client.AuthorizationResponseError) return err.error;
    if (err instanceof client.WWWAuthenticateChallengeError) {
      return err.cause[0]?.parameters?.error ?? "challenge-without-error";
    }
    throw err;
  }
}

async function clientAuthentication(rp) {
  if (rp.auth === "client_secret_basic") return client.ClientSecretBasic(rp.client_secret);
  if (rp.auth === "private_key_jwt") {
    const { kid } = rp.private_jwk;
    const algorithm = { name: "ECDSA", namedCurve: "P-256" };
    const key = await crypto.subtle.importKey("jwk", rp.private_jwk, algorithm, false, ["sign"]);
    return client.PrivateKeyJwt({ key, kid });
  }
  throw new Error(`unknown client authentication ${rp.auth}`);
}

async function main() {
  const rp = await receive();
  const results = {};

  const config = await client.discovery(
    new URL(rp.issuer),
    rp.client_id,
    rp.metadata ?? {},
    await clientAuthentication(rp),
    // Plain HTTP on loopback in tests only; and verify every JWT signature via JWKS.
    { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
  );
  const server = config.serverMetadata();
  results.discovery = {
    issuer: server.issuer,
    supports_pkce: server.supportsPKCE(),
    end_session_endpoint: server.end_session_endpoint,
  };

  const scope = "openid profile email offline_access";

  async function signIn(extra = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: rp.redirect_uri,
      scope,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
      ...extra,
    });
    const callback = new URL(await visit(url));
    const checks = { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce };
    return { url, callback, checks, nonce };
  }

  // 1. Code flow: PKCE, state, nonce, iss (RFC 9207) and a fully validated ID token.
  const first = await signIn();
  const tokens = await client.authorizationCodeGrant(config, first.callback, {
    ...first.checks,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  results.authorization_url = first.url.href;
  results.callback = first.callback.href;
  results.token = {
    token_type: tokens.token_type,
    scope: tokens.scope,
    has_refresh_token: typeof tokens.refresh_token === "string",
    expires_in: tokens.expiresIn(),
  };
  results.id_token = { ...claims, expected_nonce: first.nonce };

  // 2. UserInfo, with the subject checked against the ID token.
  results.userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);

  // 3. Introspection of the access token.
  results.introspection = await client.tokenIntrospection(config, tokens.access_token, {
    token_type_hint: "access_token",
  });

  // 4. Refresh with rotation; then reuse of the rotated-out token revokes the family.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  results.refresh = {
    rotated: refreshed.refresh_token !== tokens.refresh_token,
    new_access_token: refreshed.access_token !== tokens.access_token,
    id_token_sub: refreshed.claims()?.sub,
  };
  results.refresh.userinfo_sub = (
    await client.fetchUserInfo(config, refreshed.access_token, claims.sub)
  ).sub;
  results.reuse_error = await errorOf(client.refreshTokenGrant(config, tokens.refresh_token));
  results.after_reuse_error = await errorOf(
    client.refreshTokenGrant(config, refreshed.refresh_token),
  );
  results.after_reuse_introspection = await client.tokenIntrospection(
    config,
    refreshed.access_token,
  );

  // 5. A second sign-in reuses the session and the remembered consent; then RFC 7009
  //    revocation of its refresh token takes the access token down with it.
  const second = await signIn();
  const more = await client.authorizationCodeGrant(config, second.callback, {
    ...second.checks,
    idTokenExpected: true,
  });
  await client.tokenRevocation(config, more.refresh_token, { token_type_hint: "refresh_token" });
  results.revocation = {
    introspection: await client.tokenIntrospection(config, more.access_token),
    userinfo_error: await errorOf(client.fetchUserInfo(config, more.access_token, claims.sub)),
    refresh_error: await errorOf(client.refreshTokenGrant(config, more.refresh_token)),
  };

  // 6. RP-initiated logout, then a silent authorization finds no session.
  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: more.id_token,
    post_logout_redirect_uri: rp.post_logout_redirect_uri,
    state: "openid-client-logout",
  });
  results.end_session_url = endSession.href;
  results.logout_location = await visit(endSession);
  const silent = await signIn({ prompt: "none" });
  results.prompt_none_error = await errorOf(
    client.authorizationCodeGrant(config, silent.callback, silent.checks),
  );

  send({ done: results });
}

await run(main);
