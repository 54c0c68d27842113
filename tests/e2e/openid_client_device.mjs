// The device flow (RFC 8628) with panva's openid-client (npm, v6), driven by
// tests/e2e/test_openid_client_device.py.
//
// Protocol, one JSON object per line:
//   stdin, first line   {"issuer", "client_id"}   (a public client: token_endpoint_auth_method none)
//   stdout {"visit": verification_uri_complete, "user_code", "decision": "approve"|"deny",
//           "interval", "expires_in"}  the person opens the link and decides, while this
//                                      script keeps polling the token endpoint
//   stdout {"done": {...}}             what openid-client saw
//   stdout {"error": "...", "stack"}   and exit code 1 when something threw
//
// openid-client and the line protocol's plumbing come from openid_client_harness.mjs.

import { client, receive, run, send } from "./openid_client_harness.mjs";

async function main() {
  const rp = await receive();
  const config = await client.discovery(
    new URL(rp.issuer),
    rp.client_id,
    {},
    client.None(),
    // Plain HTTP on loopback in tests only; and verify every JWT signature via JWKS.
    { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
  );
  const results = {
    discovery: {
      device_authorization_endpoint: config.serverMetadata().device_authorization_endpoint,
      grant_types_supported: config.serverMetadata().grant_types_supported,
    },
  };

  // 1. Approved: the person allows it on /device; polling ends with tokens.
  const approved = await client.initiateDeviceAuthorization(config, {
    scope: "openid profile email offline_access",
  });
  results.authorization = {
    user_code: approved.user_code,
    verification_uri: approved.verification_uri,
    verification_uri_complete: approved.verification_uri_complete,
    expires_in: approved.expires_in,
    interval: approved.interval,
  };
  send({
    visit: approved.verification_uri_complete,
    user_code: approved.user_code,
    decision: "approve",
  });
  const tokens = await client.pollDeviceAuthorizationGrant(config, approved);
  const claims = tokens.claims();
  results.token = {
    token_type: tokens.token_type,
    scope: tokens.scope,
    has_refresh_token: typeof tokens.refresh_token === "string",
  };
  results.id_token = claims;
  results.userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  results.refresh = { rotated: refreshed.refresh_token !== tokens.refresh_token };

  // 2. Denied: polling ends with access_denied.
  const denied = await client.initiateDeviceAuthorization(config, { scope: "openid" });
  send({ visit: denied.verification_uri_complete, user_code: denied.user_code, decision: "deny" });
  try {
    await client.pollDeviceAuthorizationGrant(config, denied);
    results.denied_error = null;
  } catch (err) {
    if (!(err instanceof client.ResponseBodyError)) throw err;
    results.denied_error = err.error;
  }

  send({ done: results });
}

await run(main);
