// A local Serverless plugin: after serverless-python-requirements has put the
// dependencies into the zip, deploy/lambda_zip.py adds Python 3.12 bytecode and drops
// what Lambda never runs. Python 3.12 is found as `python3.12` on PATH, in pyenv, or
// named by the PYTHON312 environment variable.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

function python312() {
  const candidates = [process.env.PYTHON312, 'python3.12'];
  const pyenv = path.join(os.homedir(), '.pyenv', 'versions');
  if (fs.existsSync(pyenv)) {
    for (const version of fs.readdirSync(pyenv).filter((v) => v.startsWith('3.12')).sort().reverse()) {
      candidates.push(path.join(pyenv, version, 'bin', 'python3.12'));
    }
  }
  for (const candidate of candidates.filter(Boolean)) {
    const probe = spawnSync(candidate, ['-c', 'import sys; print(sys.version_info[:2])'], {
      encoding: 'utf8',
    });
    if (probe.status === 0 && probe.stdout.trim() === '(3, 12)') return candidate;
  }
  return null;
}

class LambdaZip {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'after:package:createDeploymentArtifacts': () => this.finish() };
  }

  finish() {
    const { serviceDir, service } = this.serverless;
    const artifact = path.resolve(serviceDir, service.package.artifact);
    const python = python312();
    if (!python) {
      throw new this.serverless.classes.Error(
        'Python 3.12 (the Lambda runtime) is needed to compile the package\'s bytecode. ' +
          'Install it (e.g. `pyenv install 3.12`) or set PYTHON312=/path/to/python3.12.'
      );
    }
    const done = spawnSync(python, [path.join(serviceDir, 'deploy', 'lambda_zip.py'), artifact], {
      encoding: 'utf8',
    });
    if (done.status !== 0) {
      throw new this.serverless.classes.Error(`deploy/lambda_zip.py failed:\n${done.stdout}${done.stderr}`);
    }
    this.serverless.cli.log(done.stdout.trim());
  }
}

module.exports = LambdaZip;
