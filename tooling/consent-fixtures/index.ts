// Consent cookies in the real formats of each source, for tests: TC strings made by the IAB's own
// encoder, OneTrust's and Cookiebot's cookies as those CMPs write them.
import { GVL, TCModel, TCString } from '@iabtechlabtcf/core';

const purposes = Object.fromEntries(
  Array.from({ length: 11 }, (_, i) => [
    i + 1,
    { id: i + 1, name: `Purpose ${i + 1}`, description: '', illustrations: [] },
  ]),
);

/** A TC string (TCF v2.2) with consent for the given purposes and vendors. */
export function tcString(consent: { purposes: number[]; vendors?: number[] }): string {
  const vendorIds = [...new Set([755, ...(consent.vendors ?? [])])];
  const gvl = new GVL({
    gvlSpecificationVersion: 3,
    vendorListVersion: 42,
    tcfPolicyVersion: 4,
    lastUpdated: '2026-11-01T00:00:00Z',
    purposes,
    specialPurposes: {},
    features: {},
    specialFeatures: {},
    stacks: {},
    dataCategories: {},
    vendors: Object.fromEntries(
      vendorIds.map((id) => [
        id,
        {
          id,
          name: `Vendor ${id}`,
          purposes: [1, 7],
          legIntPurposes: [],
          flexiblePurposes: [],
          specialPurposes: [],
          features: [],
          specialFeatures: [],
          cookieMaxAgeSeconds: 0,
          usesCookies: true,
          cookieRefresh: false,
          usesNonCookieAccess: false,
          deviceStorageDisclosureUrl: '',
          urls: [],
        },
      ]),
    ),
  } as never);
  const model = new TCModel(gvl);
  model.cmpId = 10;
  model.cmpVersion = 1;
  model.consentScreen = 1;
  model.isServiceSpecific = true;
  model.purposeConsents.set(consent.purposes);
  if (consent.vendors?.length) model.vendorConsents.set(consent.vendors);
  return TCString.encode(model);
}

/** OneTrust's OptanonConsent cookie value, URL-encoded as OneTrust writes it. */
export function oneTrustCookie(groups: Record<string, 0 | 1>): string {
  const params = new URLSearchParams({
    isGpcEnabled: '0',
    datestamp: 'Wed Nov 26 2026 10:00:00 GMT+0100 (Central European Standard Time)',
    version: '202409.1.0',
    isIABGlobal: 'false',
    hosts: '',
    consentId: '0b7c9a0e-0d7f-4a0c-9f43-1d2b1c3e4f50',
    interactionCount: '1',
    landingPath: 'NotLandingPage',
    groups: Object.entries(groups)
      .map(([id, flag]) => `${id}:${flag}`)
      .join(','),
    AwaitingReconsent: 'false',
  });
  return params.toString();
}

/** Cookiebot's CookieConsent cookie value: a JavaScript object literal, URL-encoded. */
export function cookiebotCookie(categories: {
  marketing: boolean;
  statistics?: boolean;
  preferences?: boolean;
}): string {
  const literal =
    `{stamp:'k7NuJ9UfVn0Cq6Hk9yYxqZ1fUe8aW3bO4lL+QyR2nZs=',necessary:true,preferences:${categories.preferences ?? true},` +
    `statistics:${categories.statistics ?? true},marketing:${categories.marketing},method:'explicit',ver:1,utc:1795600000000,region:'de'}`;
  return encodeURIComponent(literal);
}
