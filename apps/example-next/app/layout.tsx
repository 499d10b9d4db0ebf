import type { ReactNode } from 'react';

export const metadata = { title: 'Northwind Coffee (Next.js)', icons: { icon: 'data:,' } };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body
        style={{ font: '15px system-ui, sans-serif', margin: '40px auto', maxWidth: 720, color: '#1f2328' }}
      >
        <nav style={{ marginBottom: 24 }}>
          <a href="/">Northwind Coffee</a> · <a href="/lead">Wholesale</a> ·{' '}
          <a href="/checkout">Buy a grinder</a>
        </nav>
        {children}
      </body>
    </html>
  );
}
