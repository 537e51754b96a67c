// A small OpenID Provider on panva's oidc-provider (OpenID Certified), for
// idpconform's own CI: a real, independent implementation that the suites
// and load runs are pointed at. Everything is in memory (the library's
// development adapter), the server binds loopback only, and client secrets
// and user passwords come from the environment (peers/peers.env holds the
// published test values).
//
//   node server.js --addr 127.0.0.1:18081
//
// What it configures, and the choices it makes where the RFCs leave room
// (declared in fixtures/targets/oidc-provider.yaml):
//   - client credentials, introspection, revocation, userinfo;
//   - access tokens for the resource urn:idpconform:api: JWT (RFC 9068,
//     typ at+jwt) for idpconform-cc, opaque for the other clients; tokens
//     for the code flow are opaque (audience: the userinfo endpoint);
//   - JWT access tokens are self-contained: introspection answers
//     active:false for them (the library does not store them);
//   - refresh tokens rotate on every use, and a used one presented again
//     revokes the whole grant (reuse detection, RFC 9700 §4.14.2);
//   - PKCE S256 only (the library does not implement plain);
//   - a login form that checks the password, then a consent form.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import Provider from 'oidc-provider';

const RESOURCE = 'urn:idpconform:api';
const CALLBACK = 'http://127.0.0.1/callback';

function parseAddr(argv) {
  const i = argv.indexOf('--addr');
  const addr = i >= 0 ? argv[i + 1] : '127.0.0.1:18081';
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(addr || '');
  if (!m) throw new Error(`--addr ${JSON.stringify(addr)}: expected HOST:PORT`);
  const host = m[1] || m[2];
  // A test IdP with published secrets must never be reachable from another
  // machine.
  const loopback = (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
  if (!loopback) throw new Error(`--addr ${addr}: only loopback addresses (127.0.0.0/8, ::1) are allowed`);
  return { host, port: Number(m[3]) };
}

// Every secret comes from the environment; all missing names are reported
// at once, never a value.
function secrets(names) {
  const missing = names.filter((n) => !process.env[n]);
  if (missing.length) {
    throw new Error(`unset environment variables ${missing.join(', ')} (published test values: peers/peers.env)`);
  }
  return Object.fromEntries(names.map((n) => [n, process.env[n]]));
}

const env = secrets([
  'PEER_CC_SECRET', 'PEER_CC_POST_SECRET', 'PEER_SHORT_SECRET', 'PEER_CODE_SECRET',
  'PEER_CODE_SHORT_SECRET', 'PEER_ALICE_PASSWORD', 'PEER_BOB_PASSWORD',
]);

// Lifetimes per client, in seconds: the target file declares the same.
const lifetimes = {
  'idpconform-cc': { access: 3600 },
  'idpconform-cc-post': { access: 3600 },
  'idpconform-short': { access: 2 },
  'idpconform-code': { access: 3600, id: 3600, refresh: 720 * 3600 },
  'idpconform-code-short': { access: 2, id: 2, refresh: 4 },
};
const ttl = (client, kind, fallback) => lifetimes[client?.clientId]?.[kind] ?? fallback;

const ccClient = (id, secret, method) => ({
  client_id: id, client_secret: secret, token_endpoint_auth_method: method,
  grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api:read',
});
const codeClient = (id, secret) => ({
  client_id: id, client_secret: secret, token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
  redirect_uris: [CALLBACK], scope: 'openid profile email offline_access',
});

const users = new Map([
  ['alice', { sub: '7d3c1f0e-alice', password: env.PEER_ALICE_PASSWORD, name: 'Alice Example', email: 'alice@example.test' }],
  ['bob', { sub: '9b2e4a7c-bob', password: env.PEER_BOB_PASSWORD, name: 'Bob Example', email: 'bob@example.test' }],
]);
const bySub = new Map([...users].map(([username, u]) => [u.sub, { ...u, username }]));

function samePassword(a, b) {
  const x = Buffer.from(String(a)); const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(6).toString('base64url'), alg: 'RS256', use: 'sig' };

const configuration = {
  clients: [
    ccClient('idpconform-cc', env.PEER_CC_SECRET, 'client_secret_basic'),
    ccClient('idpconform-cc-post', env.PEER_CC_POST_SECRET, 'client_secret_post'),
    ccClient('idpconform-short', env.PEER_SHORT_SECRET, 'client_secret_basic'),
    codeClient('idpconform-code', env.PEER_CODE_SECRET),
    codeClient('idpconform-code-short', env.PEER_CODE_SHORT_SECRET),
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'api:read'],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'] },
  async findAccount(_ctx, sub) {
    const u = bySub.get(sub);
    if (!u) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, name: u.name, preferred_username: u.username, email: u.email, email_verified: true };
      },
    };
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      // A confidential client may introspect any token of this issuer.
      allowedPolicy: async (_ctx, client) => client.clientAuthMethod !== 'none',
    },
    revocation: {
      enabled: true,
      allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
    },
    resourceIndicators: {
      enabled: true,
      // Client credentials requests without a resource get the API.
      defaultResource: async (ctx, _client, oneOf) => oneOf ?? (ctx.oidc.route === 'token' && ctx.oidc.params.grant_type === 'client_credentials' ? RESOURCE : undefined),
      useGrantedResource: async () => false,
      getResourceServerInfo: async (_ctx, resource, client) => {
        if (resource !== RESOURCE) throw new Provider.errors.InvalidTarget();
        return {
          scope: 'api:read',
          audience: RESOURCE,
          accessTokenTTL: ttl(client, 'access', 3600),
          accessTokenFormat: client.clientId === 'idpconform-cc' ? 'jwt' : 'opaque',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  ttl: {
    AccessToken: (_ctx, _token, client) => ttl(client, 'access', 3600),
    ClientCredentials: (_ctx, _token, client) => ttl(client, 'access', 3600),
    IdToken: (_ctx, _token, client) => ttl(client, 'id', 3600),
    RefreshToken: (_ctx, _token, client) => ttl(client, 'refresh', 24 * 3600),
    AuthorizationCode: 60,
    Interaction: 600,
    Session: 3600,
    Grant: 24 * 3600,
  },
  rotateRefreshToken: true,
  pkce: { required: () => true },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<p>${escape(out.error)}: ${escape(out.error_description || '')}</p>`);
  },
};

function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`;
}

function loginPage(uid, message) {
  return page('Sign in', `${message ? `<p role="alert">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
  <label>Username <input name="username" autocomplete="username"></label>
  <label>Password <input type="password" name="password" autocomplete="current-password"></label>
  <button type="submit">Sign in</button>
</form>`);
}

function consentPage(uid, client, scopes) {
  return page('Authorize', `<p>${escape(client)} asks for: ${escape(scopes.join(' '))}</p>
<form method="post" action="/interaction/${escape(uid)}/confirm"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button type="submit">Deny</button></form>`);
}

async function readForm(req) {
  let size = 0;
  const chunks = [];
  for await (const c of req) {
    size += c.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(c);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(html);
}

// interaction handles /interaction/:uid[/login|/confirm|/abort].
async function interaction(provider, req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Error', '<p>interaction mismatch</p>'));
  const { prompt, params, session } = details;

  if (req.method === 'GET' && !action) {
    if (prompt.name === 'login') return send(res, 200, loginPage(uid));
    const scopes = [...(prompt.details.missingOIDCScope || []), ...Object.values(prompt.details.missingResourceScopes || {}).flat()];
    return send(res, 200, consentPage(uid, params.client_id, scopes));
  }
  if (req.method !== 'POST') return send(res, 405, page('Error', '<p>method not allowed</p>'));

  const form = await readForm(req);
  switch (action) {
    case 'login': {
      const u = users.get(form.get('username') || '');
      if (!u || !samePassword(u.password, form.get('password') || '')) {
        return send(res, 200, loginPage(uid, 'Wrong username or password.'));
      }
      return provider.interactionFinished(req, res, { login: { accountId: u.sub } }, { mergeWithLastSubmission: false });
    }
    case 'confirm': {
      const accountId = session.accountId;
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId, clientId: params.client_id });
      const d = prompt.details;
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes || {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    case 'abort':
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User denied the request' }, { mergeWithLastSubmission: false });
    default:
      return send(res, 404, page('Error', '<p>not found</p>'));
  }
}

const { host, port } = parseAddr(process.argv.slice(2));
const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
const provider = new Provider(issuer, configuration);
const handle = provider.callback();
const route = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm|abort))?$/;

const server = createServer(async (req, res) => {
  const m = route.exec(new URL(req.url, issuer).pathname);
  if (!m) return handle(req, res);
  try {
    await interaction(provider, req, res, m[1], m[2]);
  } catch (err) {
    // No detail to the browser: an interaction error may quote a session.
    console.error('interaction:', err.name, err.message);
    if (!res.headersSent) send(res, 400, page('Error', '<p>the sign-in session is invalid or expired</p>'));
  }
});
server.listen(port, host, () => console.log(`oidc-provider ${issuer} listening`));

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
