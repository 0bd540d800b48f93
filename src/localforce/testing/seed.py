"""The seed an org gets when the project names none: an admin who may use the password flow,
and a connected app for client credentials, JWT bearer (no certificate) and the browser flows."""

DEFAULT_SEED = """
[org]
name = "Test Org"
my_domain = "testorg"
username_password_flow = true

[[users]]
username = "admin@test.localforce"
password = "Test-Pass-1234"
security_token = "TESTTOKEN1234"
profile = "System Administrator"
first_name = "Test"
last_name = "Admin"

[[apps]]
name = "Test App"
consumer_key = "3MVG9localforce.test.key"
consumer_secret = "localforce-test-secret"
callback_urls = ["http://127.0.0.1:1717/OauthRedirect", "http://localhost:1717/OauthRedirect"]
scopes = ["api", "refresh_token", "web", "openid", "id", "full"]
enable_client_credentials = true
run_as = "admin@test.localforce"
"""
