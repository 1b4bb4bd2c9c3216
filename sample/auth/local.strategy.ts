import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { type User, UsersService } from './users.service';

/** Username + password sign-in (`passport-local`), reading `username` and `password` from the body. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy) {
  constructor(private readonly users: UsersService) {
    super();
  }

  async validate(username: string, password: string): Promise<User> {
    const user = await this.users.verify(username, password);
    if (!user) throw new UnauthorizedException('Invalid username or password');
    return user;
  }
}
