#!/usr/bin/python3
"""sipsrc answers digest challenges (401 and 407) and reports refused credentials."""

from sipsrc_case import SipsrcTestCase, Sipp, main, TONE_HZ


class SipsrcAuthTest(SipsrcTestCase):

    def test_401_challenge_answered_with_credentials(self):
        with Sipp("auth_401.xml", duration_ms=2500, auth_user="alice",
                  auth_pass="s3cret") as uas:
            r, wav = self.run_to_wav(uas.uri("service"), user_id="alice", user_pw="s3cret")
            self.assertEqual(r.returncode, 0, str(r))
            self.assertStates(r, ["established", "terminated"])
            self.assertTone(wav, TONE_HZ)
            self.assertSippPassed(uas, " (credentials verified by verifyauth)")
            self.assertIn("Digest", uas.received("INVITE")[-1].header("Authorization") or "")

    def test_407_proxy_challenge_answered_with_credentials(self):
        with Sipp("auth_407.xml", duration_ms=2500, auth_user="alice") as uas:
            r, wav = self.run_to_wav(uas.uri("service"), user_id="alice", user_pw="s3cret")
            self.assertEqual(r.returncode, 0, str(r))
            self.assertStates(r, ["established", "terminated"])
            self.assertTone(wav, TONE_HZ)
            self.assertSippPassed(uas, " (Proxy-Authorization checked)")

    def test_auth_user_differs_from_user_id(self):
        with Sipp("auth_401.xml", duration_ms=2000, auth_user="acct-42",
                  auth_pass="s3cret") as uas:
            r, wav = self.run_to_wav(uas.uri("service"), user_id="alice",
                                     auth_user="acct-42", user_pw="s3cret")
            self.assertEqual(r.returncode, 0, str(r))
            self.assertSippPassed(uas)

    def test_wrong_password_fails_with_403(self):
        with Sipp("auth_wrong_403.xml", auth_user="alice", auth_pass="s3cret") as uas:
            r, _ = self.run_to_wav(uas.uri("service"), user_id="alice", user_pw="wrong")
            self.assertFailedWith(r, 403)
            self.assertNotIn("wrong", r.text, "the password appears in the output")
            self.assertSippPassed(uas, " (caller must ACK the 403 and not retry)")


    def test_register_first_registers_with_credentials_then_calls(self):
        # one SIPp is registrar and callee: two SIPp calls, REGISTER and INVITE
        with Sipp("register_then_answer_pcmu_bye.xml", duration_ms=2500,
                  auth_user="alice", auth_pass="s3cret", extra_args=["-m", "2"]) as uas:
            r, wav = self.run_to_wav(uas.uri("service"), user_id="alice",
                                     user_pw="s3cret", register=True)
            self.assertEqual(r.returncode, 0, str(r))
            self.assertStates(r, ["established", "terminated"])
            self.assertTone(wav, TONE_HZ)
            self.assertSippPassed(uas, " (REGISTER authenticated, then the call)")
            # REGISTER, again with credentials, and (when the call ends) the
            # unregistration may already be there
            registers = uas.received("REGISTER")
            self.assertGreaterEqual(len(registers), 2, registers)
            self.assertIn("Digest", registers[1].header("Authorization") or "")
            self.assertEqual(len(uas.received("INVITE")), 1)
            order = [m.method for m in uas.parsed_messages() if m.direction == "received"]
            self.assertLess(order.index("REGISTER"), order.index("INVITE"), order)

if __name__ == "__main__":
    main()
