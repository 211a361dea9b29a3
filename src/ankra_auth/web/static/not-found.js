// The 404 page of a signed-in visitor: only "Sign out" to wire.
import { signOutButton } from './common.js';

signOutButton();
