import { ads } from '../../lib/chatgpt-ads';
import { checkout } from '../actions';

export default function Checkout() {
  return (
    <main>
      <ads.Pixel />
      <h1>Checkout</h1>
      <p>Hand grinder: $89.00</p>
      <form action={checkout}>
        <input name="email" defaultValue="jordan@example.com" />{' '}
        <button type="submit" data-testid="checkout-submit">
          Pay
        </button>
      </form>
    </main>
  );
}
