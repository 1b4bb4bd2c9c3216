import type { User } from '../auth/users.service';
import type { Product } from '../cart/catalog';
import type { CartView } from '../cart/cart.controller';
import { CSRF_FIELD, type DeviceInfo } from './device-info';
import { html, type SafeHtml } from './html';

/** Who is looking at the page, and the form token when the page has forms. */
export interface Viewer {
  user: User | null;
  /** The session's CSRF token; needed when the page has forms (the nav's sign-out button too). */
  csrf?: string;
}

/** One of the signed-in user's sessions, as the devices page shows it. */
export interface DeviceView {
  current: boolean;
  device: DeviceInfo | null;
  expires: string | null;
}

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }
  nav { display: flex; gap: 1rem; align-items: center; border-bottom: 1px solid #ccc; padding-bottom: .5rem; }
  nav form { margin-left: auto; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eee; }
  .flash { background: #eef; padding: .5rem 1rem; }
  .error { background: #fee; padding: .5rem 1rem; }
  label { display: block; margin: .5rem 0; }
`;

function csrfField(token: string | undefined): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${token ?? ''}" />`;
}

function euros(cents: number): string {
  return `€${(cents / 100).toFixed(2)}`;
}

/** A one-time notice above the page's content (a flash message read for this page). */
export interface Notice {
  kind: 'flash' | 'error';
  text: string;
}

/** Notices of one kind, one per message. */
export function notices(kind: Notice['kind'], texts: readonly string[]): Notice[] {
  return texts.map((text) => ({ kind, text }));
}

/** The page frame: title, navigation, the notices, the content. */
export function layout(
  title: string,
  viewer: Viewer,
  content: SafeHtml,
  notes: readonly Notice[] = [],
): string {
  const { user, csrf } = viewer;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · nest-session sample</title>
        <style>
          ${STYLE}
        </style>
      </head>
      <body>
        <nav>
          <a href="/web">Home</a>
          <a href="/web/counter">Counter</a>
          <a href="/web/cart">Cart</a>
          ${user && html`<a href="/web/devices">Your devices</a>`}
          ${
            !user
              ? html`<a href="/web/sign-in">Sign in</a>`
              : csrf
                ? html`<form method="post" action="/web/sign-out">
                    ${csrfField(csrf)}<button type="submit">Sign out</button>
                  </form>`
                : html`<span>${user.username}</span>`
          }
        </nav>
        <main>
          <h1>${title}</h1>
          ${notes.map((n) => html`<p class="${n.kind}" role="status">${n.text}</p>`)} ${content}
        </main>
      </body>
    </html> `.toString();
}

export function homePage(
  viewer: Viewer,
  visits: number,
  cartItems: number,
  notes: readonly Notice[] = [],
): string {
  const { user } = viewer;
  return layout(
    'Home',
    viewer,
    html` <p id="status">
        ${
          user
            ? html`Signed in as <strong id="user">${user.displayName}</strong> (${user.username}).`
            : html`You are not signed in. <a href="/web/sign-in">Sign in</a>.`
        }
      </p>
      <ul>
        <li>Visits counted in this session: <span id="visits">${visits}</span></li>
        <li>Items in your cart: <span id="cart-items">${cartItems}</span></li>
      </ul>`,
    notes,
  );
}

export function signInPage(viewer: Viewer, errors: readonly string[]): string {
  const { user, csrf } = viewer;
  return layout(
    'Sign in',
    viewer,
    html` ${user && html`<p>You are signed in as ${user.username}; signing in again replaces that.</p>`}
      <form method="post" action="/web/sign-in">
        ${csrfField(csrf)}
        <label>Username <input name="username" autocomplete="username" required /></label>
        <label
          >Password <input name="password" type="password" autocomplete="current-password" required
        /></label>
        <button type="submit">Sign in</button>
      </form>
      <p>Demo accounts: alice / wonderland, bob / builder.</p>`,
    notices('error', errors),
  );
}

export function counterPage(viewer: Viewer, visits: number): string {
  return layout(
    'Counter',
    viewer,
    html`<p>
      You have seen this page <strong id="visits">${visits}</strong> time${visits === 1 ? '' : 's'}
      in this session.
    </p>`,
  );
}

export function cartPage(viewer: Viewer, cart: CartView, products: readonly Product[]): string {
  const token = csrfField(viewer.csrf);
  const lines = cart.items.map(
    (item) =>
      html` <tr data-product="${item.productId}">
        <td>${item.name}</td>
        <td class="quantity">${item.quantity}</td>
        <td>${euros(item.subtotal)}</td>
        <td>
          <form method="post" action="/web/cart/remove">
            ${token}
            <input type="hidden" name="productId" value="${item.productId}" />
            <button type="submit">Remove ${item.name}</button>
          </form>
        </td>
      </tr>`,
  );
  const catalog = products.map(
    (p) =>
      html` <li>
        <form method="post" action="/web/cart/add">
          ${token}
          <input type="hidden" name="productId" value="${p.id}" />
          ${p.name}, ${euros(p.price)}
          <input
            name="quantity"
            type="number"
            min="1"
            max="99"
            value="1"
            aria-label="Quantity of ${p.name}"
          />
          <button type="submit">Add ${p.name}</button>
        </form>
      </li>`,
  );
  return layout(
    'Cart',
    viewer,
    html` ${
        cart.items.length
          ? html`<table id="cart">
                <thead>
                  <tr>
                    <th>Product</th>
                    <th>Quantity</th>
                    <th>Subtotal</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  ${lines}
                </tbody>
              </table>
              <p>Total: <strong id="total">${euros(cart.total)}</strong></p>`
          : html`<p id="empty">Your cart is empty.</p>`
      }
      <h2>Products</h2>
      <ul>
        ${catalog}
      </ul>`,
  );
}

export function devicesPage(
  viewer: Viewer,
  devices: DeviceView[],
  revoked: readonly number[] = [],
): string {
  const rows = devices.map(
    (d) =>
      html` <tr class="device${d.current ? ' current' : ''}">
        <td>${d.current ? html`<strong>This device</strong>` : 'Other device'}</td>
        <td>${d.device?.userAgent ?? 'unknown (signed in through the JSON API)'}</td>
        <td>${d.device?.signedInAt ?? '?'}</td>
        <td>${d.expires ?? 'end of browser session'}</td>
      </tr>`,
  );
  return layout(
    'Your devices',
    viewer,
    html` <p>Where you are signed in (<span id="device-count">${devices.length}</span>):</p>
      <table id="devices">
        <thead>
          <tr>
            <th></th>
            <th>Browser</th>
            <th>Signed in</th>
            <th>Expires</th>
          </tr>
        </thead>
        <tbody>
          ${rows}
        </tbody>
      </table>
      <form method="post" action="/web/devices/sign-out-others">
        ${csrfField(viewer.csrf)}
        <button type="submit">Sign out everywhere else</button>
      </form>`,
    notices(
      'flash',
      revoked.map((n) => `Signed out ${n} other session${n === 1 ? '' : 's'}.`),
    ),
  );
}

export function errorPage(viewer: Viewer, status: number, message: string): string {
  return layout(
    `Error ${status}`,
    viewer,
    html`<p id="error">${message}</p>
      <p><a href="/web">Back home</a></p>`,
  );
}
