import { Injectable } from '@nestjs/common';
import { PassportSerializer } from '@nestjs/passport';
import { type User, UsersService } from './users.service';

type Done<T> = (err: Error | null, value?: T) => void;

/** Keeps only the username in the session (`session.passport.user`) and reloads the user from it. */
@Injectable()
export class SessionSerializer extends PassportSerializer {
  constructor(private readonly users: UsersService) {
    super();
  }

  serializeUser(user: User, done: Done<string>): void {
    done(null, user.username);
  }

  deserializeUser(username: string, done: Done<User | false>): void {
    // `false`: the user no longer exists, passport signs the session out.
    done(null, this.users.findByUsername(username) ?? false);
  }
}
