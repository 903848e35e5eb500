// An OpenID provider that misbehaves on purpose, for the refusals loggkoll's tests check: it
// signs ID tokens with jose (the library node-oidc-provider signs with), correct but for the
// one defect its mode asks for. Prints one JSON line, {"issuer": …}, once it listens; stops when
// its standard input closes.
//
//   GET /mode/NAME  sets the defect of the next tokens: ok, wrong_aud, expired, bad_signature,
//                   wrong_nonce, no_acr, wrong_iss, rotated (signed with a new key whose kid the
//                   JWKS only lists from then on), other_subject (another person named
//                   `anna`).
//
// Environment: CLIENT_ID, CLIENT_SECRET.
import http from 'node:http';
import crypto from 'node:crypto';
import { generateKeyPair, exportJWK, SignJWT } from 'jose';

const keys = async (kid) => {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
};
const first = await keys('mischief-1');
const forger = await keys('mischief-1'); // the same kid, another key: a forged signature
const second = await keys('mischief-2');
let published = [first.jwk];
let mode = 'ok';
const codes = new Map();

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const json = (res, status, value) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

server.on('request', async (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/.well-known/openid-configuration') {
    return json(res, 200, {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      code_challenge_methods_supported: ['S256'],
      acr_values_supported: ['pwd', 'mfa'],
    });
  }
  if (url.pathname === '/jwks') return json(res, 200, { keys: published });
  if (url.pathname.startsWith('/mode/')) {
    mode = url.pathname.slice('/mode/'.length);
    if (mode === 'rotated') published = [first.jwk, second.jwk];
    return json(res, 200, { mode });
  }
  if (url.pathname === '/authorize') {
    // Signs in whoever asks, as `anna` of the quality group.
    const code = crypto.randomBytes(16).toString('hex');
    codes.set(code, { nonce: url.searchParams.get('nonce'), challenge: url.searchParams.get('code_challenge') });
    const back = new URL(url.searchParams.get('redirect_uri'));
    back.searchParams.set('code', code);
    back.searchParams.set('state', url.searchParams.get('state'));
    res.writeHead(302, { location: back.toString() });
    return res.end();
  }
  if (url.pathname === '/token' && req.method === 'POST') {
    let data = '';
    for await (const chunk of req) data += chunk;
    const form = new URLSearchParams(data);
    // client_secret_basic: each part form-encoded (RFC 6749 2.3.1), then base64.
    const given = Buffer.from((req.headers.authorization || '').replace(/^Basic /, ''), 'base64').toString();
    const [id, secret] = given.split(':').map((p) => decodeURIComponent((p || '').replace(/\+/g, ' ')));
    if (id !== process.env.CLIENT_ID || secret !== process.env.CLIENT_SECRET) return json(res, 401, { error: 'invalid_client' });
    const grant = codes.get(form.get('code'));
    codes.delete(form.get('code'));
    if (!grant) return json(res, 400, { error: 'invalid_grant' });
    const verifier = form.get('code_verifier') || '';
    const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
    if (challenge !== grant.challenge) return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE' });
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: 'anna', preferred_username: 'anna', name: 'Anna Kvalitet',
      groups: ['loggkoll-kvalitet'], nonce: grant.nonce, acr: 'mfa',
    };
    let iat = now;
    let exp = now + 300;
    let audience = process.env.CLIENT_ID;
    let iss = issuer;
    let signer = first;
    if (mode === 'wrong_aud') audience = 'another-app';
    if (mode === 'expired') { iat = now - 3600; exp = now - 1800; }
    if (mode === 'wrong_nonce') claims.nonce = 'not-the-nonce-that-was-sent';
    if (mode === 'no_acr') delete claims.acr;
    if (mode === 'wrong_iss') iss = 'http://127.0.0.1:1';
    if (mode === 'bad_signature') signer = forger;
    if (mode === 'rotated') signer = second;
    if (mode === 'other_subject') claims.sub = 'someone-else';
    const idToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: signer.kid })
      .setIssuer(iss).setAudience(audience).setIssuedAt(iat).setExpirationTime(exp)
      .sign(signer.privateKey);
    return json(res, 200, { access_token: crypto.randomBytes(16).toString('hex'), token_type: 'Bearer', expires_in: 300, id_token: idToken });
  }
  res.writeHead(404);
  return res.end();
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
