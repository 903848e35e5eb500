// A real OpenID provider for loggkoll's tests: node-oidc-provider (OpenID Certified), on
// loopback, with a few people and their groups. Prints one JSON line, {"issuer": …}, once it
// listens; stops when its standard input closes.
//
// Environment: CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, POST_LOGOUT_REDIRECT_URI.
//
// The login page is the provider's own interaction, kept plain: a person (`login`) and whether
// they used a second factor (`mfa`, giving acr "mfa", else "pwd"). Consent is given at once.
import http from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const people = {
  anna: { name: 'Anna Kvalitet', email: 'anna@kommun.test', groups: ['loggkoll-kvalitet', 'personal'] },
  olle: { name: 'Olle Admin', email: 'olle@kommun.test', groups: ['loggkoll-admin'] },
  lisa: { name: 'Lisa Läsare', email: 'lisa@kommun.test', groups: ['loggkoll-lasare'] },
  nils: { name: 'Nils Ekonom', email: 'nils@kommun.test', groups: ['ekonomi'] },
};

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    post_logout_redirect_uris: [process.env.POST_LOGOUT_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: ['a test key, not a secret'] },
  acrValues: ['pwd', 'mfa'],
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
    acr: null,
  },
  // The scopes' claims in the ID token itself, as Entra ID and Keycloak put groups there; or,
  // with CONFORM=1, only at the userinfo endpoint (OpenID Connect's default).
  conformIdTokenClaims: process.env.CONFORM === '1',
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  async findAccount(ctx, id) {
    const person = people[id];
    if (!person) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, ...person };
      },
    };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.proxy = false;

const page = (uid) => `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Testleverantör</title></head>
<body><h1>Logga in hos testleverantören</h1>
<form method="post" action="/interaction/${uid}/login">
<label for="login">Användare</label> <input id="login" name="login" autocomplete="off">
<label><input type="checkbox" name="mfa" value="1" id="mfa"> Med andra faktor</label>
<button type="submit" id="sign-in">Logga in</button></form></body></html>`;

const body = (req) => new Promise((resolve) => {
  let data = '';
  req.on('data', (c) => { data += c; });
  req.on('end', () => resolve(new URLSearchParams(data)));
});

const callback = provider.callback();
server.on('request', async (req, res) => {
  try {
    const m = req.url.match(/^\/interaction\/([^/?]+)(\/login)?/);
    if (!m) return callback(req, res);
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'consent') {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      if (details.prompt.details.missingOIDCScope) grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
      if (details.prompt.details.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    if (req.method === 'POST' && m[2]) {
      const form = await body(req);
      const login = form.get('login') || '';
      if (!people[login]) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return res.end(page(m[1]).replace('<form', '<p role="alert">Okänd användare</p><form'));
      }
      const mfa = form.get('mfa') === '1';
      return provider.interactionFinished(req, res, {
        login: { accountId: login, acr: mfa ? 'mfa' : 'pwd', amr: mfa ? ['pwd', 'otp'] : ['pwd'] },
      }, { mergeWithLastSubmission: false });
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return res.end(page(m[1]));
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    return res.end(String(err));
  }
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
