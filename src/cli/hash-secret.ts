import { generateToken, hashSecret, hashToken } from '../auth/secrets.js';
import { type Command, EXIT, writeJson } from './command.js';

export const hashSecretCommand: Command = {
  name: 'hash-secret',
  summary: 'hash a client secret or gateway password for the configuration files',
  help: `Usage: scope-energie hash-secret [SECRET]
       echo -n SECRET | scope-energie hash-secret
       scope-energie hash-secret --token

Prints the scrypt hash to paste into config/clients.yaml (secret_hash) or devices/*.yaml
(password_hash). Prefer standard input: a secret on the command line stays in shell history.
With --token: generates a new random static bearer token and prints it with the sha256 hash to
put in a client's token_hashes (the token itself is shown once and stored nowhere).`,
  options: { token: { type: 'boolean' } },
  async run(args, io) {
    if (args.values['token'] === true) {
      const token = generateToken();
      const hash = hashToken(token);
      if (args.values['json'] === true) writeJson(io, { token, hash });
      else io.stdout.write(`token: ${token}\nhash:  ${hash}\n`);
      return EXIT.ok;
    }
    let secret = args.positionals[0];
    if (secret === undefined) {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      secret = Buffer.concat(chunks)
        .toString('utf8')
        .replace(/\r?\n$/, '');
    }
    if (!secret) {
      io.stderr.write('error secret-empty: give a secret as argument or on standard input\n');
      return EXIT.invalid;
    }
    const hash = hashSecret(secret);
    if (args.values['json'] === true) writeJson(io, { hash });
    else io.stdout.write(`${hash}\n`);
    return EXIT.ok;
  },
};
