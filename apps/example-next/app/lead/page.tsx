import { ads } from '../../lib/chatgpt-ads';
import { submitLead } from '../actions';

export default function Lead() {
  return (
    <main>
      <ads.Pixel />
      <h1>Wholesale enquiry</h1>
      <form action={submitLead}>
        <input name="email" defaultValue="alex@example.com" />{' '}
        <button type="submit" data-testid="lead-submit">
          Send
        </button>
      </form>
    </main>
  );
}
