// X.509 for the webhook's own certificates: a self-signed CA and a serving certificate signed by
// it (ECDSA P-256, SHA-256), built with @peculiar/x509 over Node's WebCrypto; and `inspect`, which
// reads a stored bundle back with Node's own X509Certificate into the plain facts the rotation
// policy (policy.ts) decides on. Keys and certificates travel as PEM text (PKCS#8 keys), the
// format of a kubernetes.io/tls Secret.

import 'reflect-metadata'; // @peculiar/x509's dependency injection needs the Reflect metadata API
import { X509Certificate, createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { BundleFacts, Inspection } from './policy.ts';

x509.cryptoProvider.set(webcrypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A certificate and its private key, both PEM. */
export interface KeyPair {
  cert: string;
  key: string;
}

/** What the webhook Secret holds (MetalLB's cert-controller keys: ca.crt, ca.key, tls.crt, tls.key). */
export interface CertBundle {
  ca: KeyPair;
  serving: KeyPair;
}

/** A positive serial number of 16 random bytes (RFC 5280 §4.1.2.2: at most 20 octets). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f;
  return b.toString('hex');
}

type CryptoKey = webcrypto.CryptoKey;

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
}

async function importSigningKey(pem: string): Promise<CryptoKey> {
  const der = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
  return await webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign']);
}

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
}

/** A self-signed CA valid from `notBefore` to `notAfter`. */
export async function createCA(o: { commonName: string; organization: string; notBefore: Date; notAfter: Date }): Promise<KeyPair> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [o.commonName] }, { O: [o.organization] }],
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

/** A serving certificate for `dnsNames` (the first is also the CN), signed by `ca`. */
export async function createServing(ca: KeyPair, o: { dnsNames: string[]; organization: string; notBefore: Date; notAfter: Date }): Promise<KeyPair> {
  const keys = await newKeys();
  const caCert = new x509.X509Certificate(ca.cert);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: [{ CN: [o.dnsNames[0] ?? 'webhook'] }, { O: [o.organization] }],
    issuer: caCert.subject,
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: await importSigningKey(ca.key),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(o.dnsNames.map((value) => ({ type: 'dns' as const, value }))),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

function dnsNamesOf(c: X509Certificate): string[] {
  return (c.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4));
}

/**
 * Reads a stored bundle: both certificates parse, each key belongs to its certificate, the
 * serving certificate is signed by the CA. Anything unreadable is a `problem` (the policy then
 * starts over with a new CA).
 */
export function inspect(b: CertBundle): Inspection {
  let ca: X509Certificate;
  let serving: X509Certificate;
  try {
    ca = new X509Certificate(b.ca.cert);
  } catch (e) {
    return { kind: 'invalid', problem: `ca.crt is not a certificate (${(e as Error).message})` };
  }
  try {
    serving = new X509Certificate(b.serving.cert);
  } catch (e) {
    return { kind: 'invalid', problem: `tls.crt is not a certificate (${(e as Error).message})` };
  }
  for (const [name, cert, pem] of [['ca.key', ca, b.ca.key], ['tls.key', serving, b.serving.key]] as const) {
    try {
      if (!cert.checkPrivateKey(createPrivateKey(pem))) return { kind: 'invalid', problem: `${name} does not belong to its certificate` };
    } catch (e) {
      return { kind: 'invalid', problem: `${name} is not a private key (${(e as Error).message})` };
    }
  }
  const facts: BundleFacts = {
    caIsCA: ca.ca,
    caNotBefore: Date.parse(ca.validFrom),
    caNotAfter: Date.parse(ca.validTo),
    servingNotBefore: Date.parse(serving.validFrom),
    servingNotAfter: Date.parse(serving.validTo),
    servingSignedByCA: serving.checkIssued(ca) && serving.verify(createPublicKey(ca.publicKey.export({ format: 'pem', type: 'spki' }))),
    servingDnsNames: dnsNamesOf(serving),
  };
  return { kind: 'valid', facts };
}

/** tls.crt + tls.key read and matched (what the webhook server loads); a string says why not. */
export function checkServingPair(p: KeyPair): string | null {
  try {
    const cert = new X509Certificate(p.cert);
    if (!cert.checkPrivateKey(createPrivateKey(p.key))) return 'tls.key does not belong to tls.crt';
    return null;
  } catch (e) {
    return `tls.crt/tls.key unreadable: ${(e as Error).message}`;
  }
}

/** SHA-256 fingerprint of a PEM certificate (logs, tests). */
export function fingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}
