from demo.report import accounts_by_industry


def test_report_counts_every_account(localforce_org):
    with localforce_org.client() as session:
        session.create("Account", {"Name": "Hooli", "Industry": "Technology"})
        assert accounts_by_industry(session) == {
            "Manufacturing": 1, "Energy": 1, "Technology": 2}


def test_report_survives_an_expired_session(localforce_org):
    with localforce_org.client() as session:
        session.login()
        localforce_org.clock.advance(hours=3)  # the session times out; the SDK logs in again
        assert sum(accounts_by_industry(session).values()) == 3
