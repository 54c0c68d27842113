// A public client built from panva's openid-client (npm) that uses DPoP (RFC 9449)
// end to end, driven by tests/e2e/test_openid_client_dpop.py.
//
// Protocol, one JSON object per line (as openid_client_rp.mjs):
//   stdin, first line      {"issuer", "client_id", "redirect_uri"}
//   stdout  {"visit": url} / stdin {"location": u}   the person at the browser
//   stdout  {"done": {...}} what openid-client saw
//   stdout  {"error": "..."} and exit code 1 when something threw
//
// openid-client does the DPoP work itself: proofs with htm/htu/ath, the nonce round
// trips (use_dpop_nonce at the token endpoint, the DPoP challenge at UserInfo).

import { client, receive, run, send } from "./openid_client_harness.mjs";

async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    if (err instanceof client.ResponseBodyError) return err.error;
    if (err instanceof client.WWWAuthenticateChallengeError) {
      return err.cause[0]?.parameters?.error ?? "challenge-without-error";
    }
    throw err;
  }
}

// RFC 7638 thumbprint of an EC public key, for the dpop_jkt parameter (RFC 9449 §10).
async function thumbprint(publicKey) {
  const { crv, kty, x, y } = await crypto.subtle.exportKey("jwk", publicKey);
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(JSON.stringify({ crv, kty, x, y })),
  );
  return Buffer.from(digest).toString("base64url");
}

async function main() {
  const rp = await receive();
  const results = {};
  const config = await client.discovery(
    new URL(rp.issuer),
    rp.client_id,
    {},
    client.None(),
    { execute: [client.allowInsecureRequests] },
  );
  results.dpop_algs = config.serverMetadata().dpop_signing_alg_values_supported;

  const keyPair = await client.randomDPoPKeyPair("ES256");
  const DPoP = client.getDPoPHandle(config, keyPair);
  results.jkt = await thumbprint(keyPair.publicKey);

  // 1. Code flow, the code bound to the key up front with dpop_jkt.
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: rp.redirect_uri,
    scope: "openid email offline_access",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    dpop_jkt: results.jkt,
  });
  send({ visit: url.href });
  const callback = new URL((await receive()).location);
  const tokens = await client.authorizationCodeGrant(
    config,
    callback,
    { pkceCodeVerifier: verifier, expectedState: state },
    undefined,
    { DPoP },
  );
  results.token = {
    token_type: tokens.token_type,
    has_refresh_token: typeof tokens.refresh_token === "string",
  };
  const sub = tokens.claims().sub;

  // 2. UserInfo with the DPoP scheme and a proof carrying ath.
  results.userinfo = await client.fetchUserInfo(config, tokens.access_token, sub, { DPoP });
  // The bound token without its proof (as a Bearer token) is refused.
  results.bearer_error = await errorOf(client.fetchUserInfo(config, tokens.access_token, sub));

  // 3. The refresh token of this public client is bound to the key: another key fails,
  //    and the refusal does not burn the token.
  const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair("ES256"));
  results.other_key_refresh_error = await errorOf(
    client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: other }),
  );
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, {
    DPoP,
  });
  results.refresh = {
    token_type: refreshed.token_type,
    rotated: refreshed.refresh_token !== tokens.refresh_token,
    userinfo_sub: (await client.fetchUserInfo(config, refreshed.access_token, sub, { DPoP })).sub,
  };

  // 4. Introspection is for confidential clients; the access token's own claims show the
  //    binding, which is what a resource server verifying the JWT sees.
  const payload = JSON.parse(
    Buffer.from(refreshed.access_token.split(".")[1], "base64url").toString(),
  );
  results.cnf = payload.cnf;
  send({ done: results });
}

await run(main);
