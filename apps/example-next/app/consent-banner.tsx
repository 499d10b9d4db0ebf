export function ConsentBanner({ back }: { back: string }) {
  return (
    <form
      method="post"
      action="/api/consent"
      style={{
        position: 'fixed',
        left: 20,
        right: 20,
        bottom: 20,
        background: '#1f2328',
        color: '#fff',
        padding: 14,
        borderRadius: 10,
      }}
    >
      <p>Cookies for ad measurement?</p>
      <input type="hidden" name="back" value={back} />
      <button type="submit" name="choice" value="accept">
        Accept
      </button>{' '}
      <button type="submit" name="choice" value="reject">
        Reject
      </button>
    </form>
  );
}
