// A confidential client built from panva's openid-client (npm) that pushes its
// authorization request (RFC 9126 PAR) and asks for a JWT-secured response (OpenID
// JARM, response_mode=jwt), driven by tests/e2e/test_openid_client_par_jarm.py.
//
// Protocol, one JSON object per line (as openid_client_rp.mjs):
//   stdin, first line      {"issuer", "client_id", "client_secret", "redirect_uri"}
//   stdout  {"visit": url} / stdin {"location": u}   the person at the browser
//   stdout  {"done": {...}} what openid-client saw
//   stdout  {"error": "..."} and exit code 1 when something threw
//
// openid-client does the protocol work itself: the PAR call with client_secret_basic,
// and the response JWT's signature (via JWKS), iss, aud and exp before the code is used.

import { client, receive, run, send } from "./openid_client_harness.mjs";

async function main() {
  const rp = await receive();
  const results = {};
  const config = await client.discovery(
    new URL(rp.issuer),
    rp.client_id,
    {},
    client.ClientSecretBasic(rp.client_secret),
    {
      execute: [
        client.allowInsecureRequests,
        client.enableNonRepudiationChecks,
        client.useJwtResponseMode,
      ],
    },
  );
  const server = config.serverMetadata();
  results.metadata = {
    par: server.pushed_authorization_request_endpoint,
    modes: server.response_modes_supported,
  };

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: rp.redirect_uri,
    scope: "openid email",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  results.authorization_url = url.href;
  send({ visit: url.href });
  const callback = new URL((await receive()).location);
  results.callback_params = [...callback.searchParams.keys()];
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  results.sub = claims.sub;
  results.userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  send({ done: results });
}

await run(main);
