/**
 * A reference Mrkter API written on NestJS itself (Nest 11 on Express, `@nestjs/throttler`), so the
 * conformance suite can hold our simulator against what the real stack sends rather than against
 * our idea of it. It implements the four API routes of the Mrkter authorization guide and the protected route the simulator
 * has, the way a Nest app would be written: a bearer guard that throws `UnauthorizedException()`
 * (what `AuthGuard('jwt')` of `@nestjs/passport` throws), `ForbiddenException()` for a foreign
 * account, a pipe that rejects a body as `ValidationPipe` does (`BadRequestException` with the array
 * of constraint messages `class-validator` writes for `@IsNotEmpty() @IsString()`), handlers that
 * return a string or nothing, and the throttler guard on the SMS route.
 *
 * The access tokens come from the simulator's Auth0 server (the login stays simulated): the guard
 * verifies them with the same HS256 key, issuer and audience.
 *
 * esbuild (which runs these tests) does not emit decorator metadata, so no constructor here relies on
 * `design:paramtypes`: Nest's decorators are applied as plain functions, and the controller gets its
 * state from the closure that builds it. The throttler guard is Nest's own class, whose compiled code
 * carries its metadata.
 */
import 'reflect-metadata';
import { randomBytes, randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  BadRequestException,
  type CanActivate,
  Controller,
  type ExecutionContext,
  ForbiddenException,
  Get,
  Module,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { jwtVerify } from 'jose';
import type { MrkterIdentity } from '../../src/services/types.js';
import type { MrkterSimUser } from '../../src/testing/mrkterSimulator.js';

export interface NestMrkterApiOptions {
  users: readonly MrkterSimUser[];
  /** The HS256 key the Auth0 simulator signs with. */
  jwtSecret: string;
  /** The Auth0 simulator's issuer: its origin with a trailing slash. */
  issuer: string;
  audience: string;
  /** The throttler's `ttl` on the SMS route, per number. */
  smsCooldownMs: number;
}

export interface NestMrkterApi {
  url: string;
  /** The last code "sent" to a number. */
  lastCode(phoneNumber: string): string | undefined;
  close(): Promise<void>;
}

interface Request {
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  user?: MrkterSimUser;
}

type MethodDecoratorFn = (target: object, key: string | symbol, descriptor: PropertyDescriptor) => unknown;

/** Applies method decorators to `cls.prototype[name]`, the way TypeScript's `__decorate` does. */
function decorateMethod(cls: { prototype: object }, name: string, ...decorators: MethodDecoratorFn[]) {
  let descriptor = Object.getOwnPropertyDescriptor(cls.prototype, name)!;
  for (const decorator of [...decorators].reverse()) {
    descriptor = (decorator(cls.prototype, name, descriptor) as PropertyDescriptor | undefined) ?? descriptor;
  }
  Object.defineProperty(cls.prototype, name, descriptor);
}

function header(request: Request, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `ValidationPipe`'s answer for a DTO field with `@IsNotEmpty() @IsString()`. */
function requireString(body: unknown, field: string): string {
  const value =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  if (typeof value === 'string' && value !== '') return value;
  // `@IsNotEmpty()` refuses '', null and undefined; `@IsString()` anything but a string.
  const messages: string[] = [];
  if (value === '' || value === null || value === undefined) messages.push(`${field} should not be empty`);
  if (typeof value !== 'string') messages.push(`${field} must be a string`);
  throw new BadRequestException(messages);
}

/** Starts the reference on 127.0.0.1 (any free port). */
export async function startNestMrkterApi(options: NestMrkterApiOptions): Promise<NestMrkterApi> {
  const secret = new TextEncoder().encode(options.jwtSecret);
  const codes: { phoneNumber: string; code: string; at: number; used: boolean }[] = [];
  const sessions = new Map<string, { username: string; accountId: number | string }>();

  const bearerGuard: CanActivate = {
    async canActivate(context: ExecutionContext) {
      const request = context.switchToHttp().getRequest<Request>();
      const token = /^Bearer\s+(\S+)$/i.exec(header(request, 'authorization') ?? '')?.[1];
      if (!token) throw new UnauthorizedException();
      try {
        const { payload } = await jwtVerify(token, secret, {
          issuer: options.issuer,
          audience: options.audience,
        });
        const user = options.users.find((u) => u.username === payload['http://email']);
        if (!user) throw new Error('unknown user');
        request.user = user;
        return true;
      } catch {
        throw new UnauthorizedException();
      }
    },
  };

  /** The caller's identity named by `x-account-id`, or `ForbiddenException()`. */
  function accountOf(request: Request): MrkterIdentity {
    const accountId = header(request, 'x-account-id');
    const identity = request.user?.identities.find((i) => String(i.accountId) === accountId);
    if (accountId === undefined || !identity) throw new ForbiddenException();
    return identity;
  }

  // Throttles per phone number (the default tracker, the IP, would throttle every test on loopback);
  // a body without a number is left to validation.
  class SmsThrottlerGuard extends ThrottlerGuard {
    protected override async getTracker(req: Record<string, unknown>): Promise<string> {
      return String((req['body'] as { phoneNumber?: unknown } | undefined)?.phoneNumber);
    }
    protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
      const body = context.switchToHttp().getRequest<Request>().body as { phoneNumber?: unknown } | undefined;
      return typeof body?.phoneNumber !== 'string' || body.phoneNumber === '';
    }
  }

  class MrkterController {
    identities(request: Request) {
      return request.user?.identities ?? [];
    }

    requestSms(request: Request): void {
      const phoneNumber = requireString(request.body, 'phoneNumber');
      if (!request.user?.identities.some((i) => i.verifiedPhoneNumber === phoneNumber)) {
        throw new BadRequestException('Phone number is not verified');
      }
      for (const code of codes) if (code.phoneNumber === phoneNumber) code.used = true;
      codes.push({
        phoneNumber,
        code: String(randomInt(0, 1_000_000)).padStart(6, '0'),
        at: Date.now(),
        used: false,
      });
    }

    authenticate(request: Request): string {
      const identity = accountOf(request);
      const submitted = requireString(request.body, 'code');
      const issued = [...codes]
        .reverse()
        .find((c) => c.phoneNumber === identity.verifiedPhoneNumber && !c.used);
      if (!issued || issued.code !== submitted || Date.now() - issued.at >= 5 * 60_000) {
        throw new BadRequestException('Invalid code');
      }
      issued.used = true;
      const sessionId = randomBytes(24).toString('base64url');
      sessions.set(sessionId, { username: request.user!.username, accountId: identity.accountId });
      return sessionId;
    }

    currentAccount(request: Request) {
      const identity = request.user?.identities.find(
        (i) => String(i.accountId) === header(request, 'x-account-id'),
      );
      const session = sessions.get(header(request, 'x-session-id') ?? '');
      if (
        !identity ||
        !session ||
        session.username !== request.user?.username ||
        String(session.accountId) !== String(identity.accountId)
      ) {
        throw new UnauthorizedException();
      }
      return {
        accountId: identity.accountId,
        companyName: identity.companyName ?? null,
        accountType: identity.accountType ?? null,
        currency: identity['currency'] ?? null,
        status: identity.status ?? null,
      };
    }
  }
  // `@Req()` for the request object: the validation is the handlers' first statement, as a pipe's
  // would be (pipes run after guards, before the handler's own code).
  const req =
    (index: number): MethodDecoratorFn =>
    (target, key) =>
      Req()(target, key, index);
  Controller()(MrkterController);
  UseGuards(bearerGuard)(MrkterController);
  decorateMethod(MrkterController, 'identities', Get('user-identity/me/users'), req(0));
  decorateMethod(
    MrkterController,
    'requestSms',
    Post('verification/sms'),
    UseGuards(SmsThrottlerGuard) as MethodDecoratorFn,
    req(0),
  );
  decorateMethod(MrkterController, 'authenticate', Post('auth/mfa/phone-number/authenticate'), req(0));
  decorateMethod(MrkterController, 'currentAccount', Get('accounts/current'), req(0));

  class AppModule {}
  Module({
    imports: [ThrottlerModule.forRoot([{ ttl: options.smsCooldownMs, limit: 1 }])],
    controllers: [MrkterController],
  })(AppModule);

  const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  return {
    url: `http://127.0.0.1:${port}`,
    lastCode: (phoneNumber) => [...codes].reverse().find((c) => c.phoneNumber === phoneNumber)?.code,
    close: () => app.close(),
  };
}
