// Tells the portal the browser's time zone (an IANA name such as Europe/Stockholm) in a cookie, so times are shown
// in the reader's zone from the next page on. Nothing else is sent; without scripts the configured zone is used.
(() => {
  const name = document.currentScript?.dataset.tzCookie;
  let zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return;
  }
  if (!name || !zone || !/^[A-Za-z0-9/_+-]{1,64}$/.test(zone)) {
    return;
  }
  const current = document.cookie.split('; ').find((c) => c.startsWith(`${name}=`));
  if (current === `${name}=${zone}`) {
    return;
  }
  const secure = window.location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `${name}=${zone}; Path=/; Max-Age=31536000; SameSite=Lax${secure}`;
})();
