import { localPath, sameOrigin } from './guard';

// The consent banner posts here (a plain form, no JavaScript needed). The 303 makes the browser load
// the page again, so the proxy sees the new choice together with the landing URL's oppref.
export async function POST(request: Request) {
  // Another site must not be able to grant consent on the visitor's behalf.
  const headers = request.headers;
  if (
    !sameOrigin({
      origin: headers.get('origin'),
      host: headers.get('host'),
      secFetchSite: headers.get('sec-fetch-site'),
    })
  ) {
    return new Response('The consent form must be sent from this site.', {
      status: 403,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  }
  const form = await request.formData().catch(() => new FormData());
  const choice = form.get('choice') === 'accept' ? 'granted' : 'denied';
  const answer = new Headers({ location: localPath(form.get('back')) });
  answer.append('set-cookie', `demo_consent=${choice}; Path=/; Max-Age=31536000; SameSite=Lax`);
  if (choice === 'denied') {
    for (const name of ['__oppref', '__obref'])
      answer.append('set-cookie', `${name}=; Path=/; Max-Age=0; SameSite=Lax`);
  }
  return new Response(null, { status: 303, headers: answer });
}
