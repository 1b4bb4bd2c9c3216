import {
  applyDecorators,
  BadRequestException,
  Body,
  Controller,
  Get,
  Header,
  NotFoundException,
  Post,
  Redirect,
  Req,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import type { Request } from 'express';
import {
  CsrfGuard,
  CsrfToken,
  csrfTokenOf,
  Flash,
  type FlashBag,
  type FlashMessages,
  type RequestSession,
  Session,
  SessionId,
  type SessionRequest,
} from '../../lib';
import { CurrentUser } from '../auth/current-user';
import { LocalAuthGuard } from '../auth/local-auth.guard';
import { passportRequest, userOf } from '../auth/passport-request';
import type { User } from '../auth/users.service';
import type { CartView } from '../cart/cart.controller';
import { CatalogService } from '../cart/catalog';
import type { CartLine } from '../session/session-data';
import {
  cartPage,
  counterPage,
  devicesPage,
  homePage,
  notices,
  signInPage,
  type DeviceView,
  type Viewer,
} from './pages';
import { UserSessions } from './user-sessions';
import { HTML_HEADERS, WebExceptionFilter } from './web-exception.filter';

type WebRequest = Request & SessionRequest;

/** Response headers of every HTML page (see {@link HTML_HEADERS}). */
const HtmlPage = () =>
  applyDecorators(...Object.entries(HTML_HEADERS).map(([name, value]) => Header(name, value)));

const MAX_QUANTITY = 99;

/**
 * A small server-rendered HTML UI over the same session as the JSON API: plain forms, each POST
 * answered with a 303 redirect (Post/Redirect/Get).
 *
 * CSRF: every form carries a token of the visitor's session (`@CsrfToken()`, `csrfTokenOf()`),
 * and {@link CsrfGuard}, on the whole controller, refuses (403) a POST without one. The session
 * cookie is also `SameSite=Lax` (the module's default), so a browser leaves it off a cross-site
 * POST; the token covers what that does not: a page of the same site (another port, a sibling
 * subdomain), browsers without SameSite, and sign-in CSRF (the sign-in form has a token too, from
 * the anonymous session that rendered it). The guard runs before the sign-in's LocalAuthGuard
 * (controller guards first).
 *
 * Pages that render no form never write the session, so an anonymous visit to the home page
 * creates no session and sets no cookie (`saveUninitialized: false`).
 */
@Controller('web')
@UseFilters(WebExceptionFilter)
@UseGuards(CsrfGuard)
export class WebController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly userSessions: UserSessions,
  ) {}

  /** `GET /web`: whether you are signed in, your visit count and cart size. */
  @Get()
  @HtmlPage()
  home(
    @Req() req: WebRequest,
    @Session() session: RequestSession,
    @Flash('info') info: FlashMessages['info'][],
  ): string {
    const cartItems = (session.shoppingCart ?? []).reduce((n, line) => n + line.quantity, 0);
    return homePage(viewer(req), session.visits ?? 0, cartItems, notices('flash', info));
  }

  /** `GET /web/sign-in`: the sign-in form, with the error flashed by a failed sign-in. */
  @Get('sign-in')
  @HtmlPage()
  signInForm(
    @Req() req: WebRequest,
    @CsrfToken() csrf: string,
    @Flash('error') errors: FlashMessages['error'][],
  ): string {
    return signInPage({ user: userOf(req) ?? null, csrf }, errors);
  }

  /**
   * `POST /web/sign-in` (form: username, password, _csrf): the same passport flow as
   * `POST /auth/login` (LocalAuthGuard: check, then log in on a regenerated session). Wrong
   * credentials throw 401, which {@link WebExceptionFilter} turns into a redirect to the form.
   */
  @Post('sign-in')
  @UseGuards(LocalAuthGuard)
  @Redirect('/web', 303)
  signIn(@Req() req: WebRequest, @Session() session: RequestSession): void {
    // The session is the new one passport made on sign-in: remember the device for the devices page.
    session.device = {
      userAgent: String(req.headers['user-agent'] ?? 'unknown').slice(0, 300),
      signedInAt: new Date().toISOString(),
    };
  }

  /**
   * `POST /web/sign-out`: signs out (passport destroys the signed-in session and regenerates a
   * new, empty one) and flashes "You are signed out." into that new session. The home page
   * reads the notice; the session then holds nothing, so it is destroyed and the module clears
   * the cookie: no session is left behind.
   */
  @Post('sign-out')
  @Redirect('/web', 303)
  async signOut(@Req() req: WebRequest, @Flash() flash: FlashBag): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      passportRequest(req).logout((err: unknown) => (err ? reject(err) : resolve())),
    );
    flash.add('info', 'You are signed out.');
  }

  /** `GET /web/counter`: counts this visit (the same `visits` as `GET /counter`). */
  @Get('counter')
  @HtmlPage()
  counter(@Req() req: WebRequest, @Session() session: RequestSession): string {
    session.visits = (session.visits ?? 0) + 1;
    return counterPage(viewer(req), session.visits);
  }

  /** `GET /web/cart`: the cart (the same `shoppingCart` as `GET /cart`) and the catalog. */
  @Get('cart')
  @HtmlPage()
  cart(
    @Req() req: WebRequest,
    @Session() session: RequestSession,
    @CsrfToken() csrf: string,
  ): string {
    const view = this.cartView(session.shoppingCart ?? []);
    return cartPage({ user: userOf(req) ?? null, csrf }, view, this.catalog.list());
  }

  /** `POST /web/cart/add` (form: productId, quantity?, _csrf). */
  @Post('cart/add')
  @Redirect('/web/cart', 303)
  addToCart(
    @Session() session: RequestSession,
    @Body() body: { productId?: unknown; quantity?: unknown },
  ): void {
    const productId = typeof body.productId === 'string' ? body.productId : '';
    if (!this.catalog.find(productId)) throw new NotFoundException(`No product "${productId}"`);
    const raw = body.quantity === undefined || body.quantity === '' ? '1' : body.quantity;
    const quantity = typeof raw === 'string' && /^[0-9]{1,2}$/.test(raw) ? Number(raw) : 0;
    if (quantity < 1) throw new BadRequestException('The quantity must be a whole number, 1 to 99');
    const cart = (session.shoppingCart ?? []).map((line) => ({ ...line }));
    const line = cart.find((l) => l.productId === productId);
    const total = (line?.quantity ?? 0) + quantity;
    if (total > MAX_QUANTITY) throw new BadRequestException(`At most ${MAX_QUANTITY} of a product`);
    if (line) line.quantity = total;
    else cart.push({ productId, quantity });
    session.shoppingCart = cart;
  }

  /** `POST /web/cart/remove` (form: productId, _csrf). */
  @Post('cart/remove')
  @Redirect('/web/cart', 303)
  removeFromCart(@Session() session: RequestSession, @Body() body: { productId?: unknown }): void {
    const cart = session.shoppingCart ?? [];
    const productId = typeof body.productId === 'string' ? body.productId : '';
    if (!cart.some((l) => l.productId === productId)) {
      throw new NotFoundException(`"${productId}" is not in the cart`);
    }
    session.shoppingCart = cart.filter((l) => l.productId !== productId);
  }

  /** `GET /web/devices`: the signed-in user's sessions (signed-out visitors go to sign-in). */
  @Get('devices')
  @HtmlPage()
  async devices(
    // The user first: a signed-out visitor is redirected before a token (a secret) is made.
    @CurrentUser() user: User,
    @SessionId() currentId: string,
    @CsrfToken() csrf: string,
    @Flash('revoked') revoked: FlashMessages['revoked'][],
  ): Promise<string> {
    const sessions = await this.userSessions.list(user.username);
    const devices: DeviceView[] = sessions.map(({ id, record }) => {
      const expires = record.cookie.expires;
      return {
        current: id === currentId,
        device: (record.device as DeviceView['device'] | undefined) ?? null,
        expires: expires ? new Date(expires).toISOString() : null,
      };
    });
    devices.sort((a, b) => Number(b.current) - Number(a.current));
    return devicesPage({ user, csrf }, devices, revoked);
  }

  /** `POST /web/devices/sign-out-others`: "sign out everywhere" but on this device. */
  @Post('devices/sign-out-others')
  @Redirect('/web/devices', 303)
  async signOutOthers(
    @CurrentUser() user: User,
    @SessionId() currentId: string,
    @Flash() flash: FlashBag,
  ): Promise<void> {
    flash.add('revoked', await this.userSessions.destroyOthers(user.username, currentId));
  }

  private cartView(cart: readonly CartLine[]): CartView {
    const items = cart.flatMap((line) => {
      const product = this.catalog.find(line.productId);
      if (!product) return [];
      const { name, price } = product;
      return [{ ...line, name, price, subtotal: price * line.quantity }];
    });
    return { items, total: items.reduce((sum, i) => sum + i.subtotal, 0) };
  }
}

/**
 * Who is asking, on a page without forms of its own: a signed-in visitor gets a token (the
 * navigation has a sign-out button), an anonymous one none, so that plain pages store nothing.
 */
function viewer(req: WebRequest): Viewer {
  const user = userOf(req) ?? null;
  return { user, csrf: user ? csrfTokenOf(req) : undefined };
}

/** `GET /`: the HTML UI's home page. */
@Controller()
export class WebRootController {
  @Get()
  @Redirect('/web', 302)
  root(): void {}
}
