"""serverless.yml as packaged offline by `npx osls package`: the template and the zip.

The fixture reuses `.serverless/` when it is newer than its inputs (.ci/run packages
first) and otherwise packages into a temporary folder, with no AWS credentials in reach
(docs/DEPLOY.md: What CI checks without AWS). A second packaging, with a Google client
id, checks the optional Google sign-in (test_deploy_google.py).
"""
