// The consent banner posts here (a plain form, no JavaScript needed). The 303 makes the browser load
// the page again, so the proxy sees the new choice together with the landing URL's oppref.
export async function POST(request: Request) {
  const form = await request.formData();
  const choice = form.get('choice') === 'accept' ? 'granted' : 'denied';
  const back = String(form.get('back') ?? '/');
  const headers = new Headers({ location: back.startsWith('/') ? back : '/' });
  headers.append('set-cookie', `demo_consent=${choice}; Path=/; Max-Age=31536000; SameSite=Lax`);
  if (choice === 'denied') {
    for (const name of ['__oppref', '__obref'])
      headers.append('set-cookie', `${name}=; Path=/; Max-Age=0; SameSite=Lax`);
  }
  return new Response(null, { status: 303, headers });
}
