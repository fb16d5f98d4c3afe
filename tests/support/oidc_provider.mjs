// A real OpenID provider (the npm package oidc-provider) for the tests, on loopback.
//
//   node tests/support/oidc_provider.mjs CONFIG_JSON
//
// CONFIG_JSON (argv[2] or the OIDC_TEST_CONFIG environment variable):
//   {"port": 0, "issuer": "http://127.0.0.1:PORT",            (port 0: pick one; issuer derived)
//    "clients": [{"client_id", "client_secret", "redirect_uris": [...], "post_logout_redirect_uris": [...]}],
//    "users": {"alice": {"email", "email_verified", "roles": [...]}}}
// It prints one line `READY <issuer>` on stdout once listening.
//
// No login form: the interaction signs in the user named by the authorization request's
// login_hint (a user id or e-mail), else the one chosen with POST /_admin/next-user, else the
// first user. Test-only admin endpoints (JSON bodies) let a test make the provider misbehave
// the way a real one could, with tokens still signed by a real key:
//   POST /_admin/next-user {"user": "alice"}
//   POST /_admin/tamper {"aud": "x", "exp_offset": -3600, "nonce": "x", "sign_with": "next"}  ({} resets)
//   POST /_admin/rotate          publish the next key and sign with it from now on
//   POST /_admin/reset           first key, no tampering, default user
import Provider from 'oidc-provider';
import * as jose from 'jose';
import http from 'node:http';

const config = JSON.parse(process.argv[2] || process.env.OIDC_TEST_CONFIG || '{}');
const users = config.users || {
  alice: { email: 'alice@example.org', email_verified: true, roles: ['admin'] },
};

async function signingKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}
const publicPart = ({ d, p, q, dp, dq, qi, ...pub }) => pub;

// Two key sets: the first signs at start; the second is published and used after /_admin/rotate.
const keys = [await signingKey('key-1'), await signingKey('key-2')];
const state = { published: [keys[0]], signWith: keys[0], tamper: {}, nextUser: null };

function reset() {
  Object.assign(state, { published: [keys[0]], signWith: keys[0], tamper: {}, nextUser: null });
}

// Pick the port first so the issuer can name it.
const server = http.createServer();
await new Promise((resolve) => server.listen(config.port || 0, '127.0.0.1', resolve));
const port = server.address().port;
const issuer = config.issuer || `http://127.0.0.1:${port}`;

function userFor(hint) {
  if (hint) {
    if (users[hint]) return hint;
    const byEmail = Object.keys(users).find((id) => users[id].email === hint);
    if (byEmail) return byEmail;
  }
  if (state.nextUser && users[state.nextUser]) return state.nextUser;
  return Object.keys(users)[0];
}

const provider = new Provider(issuer, {
  clients: (config.clients || []).map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...client,
  })),
  jwks: { keys: [keys[0]] },
  cookies: { keys: ['oidc-test-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], roles: ['roles'] },
  // Put the scope's claims in the ID token too: the relying party reads them from there.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  findAccount: async (ctx, id) =>
    users[id] && { accountId: id, claims: async () => ({ sub: id, ...users[id] }) },
  // A first-party provider: every client is granted the scopes it asks for, no consent page.
  loadExistingGrant: async (ctx) => {
    const { client, session } = ctx.oidc;
    const existing = session.grantIdFor(client.clientId);
    if (existing) return ctx.oidc.provider.Grant.find(existing);
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope || 'openid');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});

async function readJson(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body ? JSON.parse(body) : {};
}

// Re-sign the ID token the provider issued, with the test's changes, by one of our real keys.
async function tampered(idToken) {
  const claims = jose.decodeJwt(idToken);
  const { tamper } = state;
  if (tamper.aud !== undefined) claims.aud = tamper.aud;
  if (tamper.nonce !== undefined) claims.nonce = tamper.nonce;
  if (tamper.exp_offset !== undefined) {
    const now = Math.floor(Date.now() / 1000);
    claims.iat = now + tamper.exp_offset - 60;
    claims.exp = now + tamper.exp_offset;
  }
  const key = tamper.sign_with === 'next' ? keys[1] : state.signWith;
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .sign(await jose.importJWK(key, 'RS256'));
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/jwks' && ctx.method === 'GET') {
    ctx.type = 'application/jwk-set+json';
    ctx.body = { keys: state.published.map(publicPart) };
    return;
  }
  if (ctx.path.startsWith('/interaction/')) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const accountId = userFor(details.params.login_hint);
    const url = await provider.interactionResult(ctx.req, ctx.res, { login: { accountId } });
    ctx.redirect(url);
    return;
  }
  await next();
  const changed = Object.keys(state.tamper).length > 0 || state.signWith !== keys[0];
  if (ctx.path === '/token' && changed && ctx.body && ctx.body.id_token) {
    ctx.body = { ...ctx.body, id_token: await tampered(ctx.body.id_token) };
  }
});

const oidc = provider.callback();
server.on('request', async (req, res) => {
  if (!req.url.startsWith('/_admin/')) return oidc(req, res);
  const body = req.method === 'POST' ? await readJson(req) : {};
  const action = req.url.slice('/_admin/'.length);
  if (action === 'next-user') state.nextUser = body.user || null;
  else if (action === 'tamper') state.tamper = body;
  else if (action === 'rotate') Object.assign(state, { published: [keys[0], keys[1]], signWith: keys[1] });
  else if (action === 'reset') reset();
  else {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
});

process.stdout.write(`READY ${issuer}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
