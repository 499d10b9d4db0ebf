import { withChatgptAds } from '@chatgpt-ads/next/config';

/** @type {import('next').NextConfig} */
export default withChatgptAds({
  reactStrictMode: true,
  poweredByHeader: false,
});
