"""wsgi.handler behind API Gateway: REST (stage dev), HTTP API payload 1.0 and 2.0.

Each "container" is a fresh import of wsgi.py with the environment serverless.yml sets;
DynamoDB and Secrets Manager are moto; the user pool is the project's local Cognito, or
the scriptable fake IdP, both served on 127.0.0.1.
"""
