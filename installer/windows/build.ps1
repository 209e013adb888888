<#
.SYNOPSIS
    Builds the Windows installer dist\govshare-desktop-<version>-setup.exe.

.DESCRIPTION
    On a Windows (x64) machine with Python 3.11 and NSIS 3:
        powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1
    (any working folder; pwsh works as well). Steps:
      1. a virtual environment build\venv-windows with the program, its test extras and
         PyInstaller (pip install ".[test]" "pyinstaller>=6.10");
      2. the version from govshare_desktop\__init__.py;
      3. the one-folder build dist\govshare-desktop\ (pyinstaller installer\govshare.spec);
      4. its self-check: govshare-desktop.exe --smoke must exit 0, govshare.exe --version must
         print the version;
      5. makensis installer\windows\govshare.nsi -> dist\govshare-desktop-<version>-setup.exe.
    Any failing step stops the build with an error.

.PARAMETER Python
    The Python used to create the virtual environment. Default: "py -3.11" (the Python launcher)
    when it is installed, otherwise "python" from PATH.

.PARAMETER MakeNsis
    makensis.exe. Default: makensis on PATH, else the NSIS folder under Program Files.
#>
[CmdletBinding()]
param(
    [string]$Python = "",
    [string]$MakeNsis = ""
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$Root = (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path
$Venv = Join-Path $Root 'build\venv-windows'
$VenvPython = Join-Path $Venv 'Scripts\python.exe'
$Dist = Join-Path $Root 'dist\govshare-desktop'
$Nsi = Join-Path $Root 'installer\windows\govshare.nsi'

function Invoke-Native {
    # Runs a native program and stops the build when it fails. While it runs, its stderr (pip and
    # PyInstaller log there) is not turned into a terminating error by Windows PowerShell 5.1.
    param(
        [Parameter(Mandatory)][string]$What,
        [Parameter(Mandatory)][scriptblock]$Command
    )
    Write-Host "==> $What" -ForegroundColor Cyan
    $saved = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    $global:LASTEXITCODE = -1  # stays so if the program could not even be started
    try {
        & $Command
    } finally {
        $ErrorActionPreference = $saved
    }
    if ($LASTEXITCODE -ne 0) {
        throw "$What failed (exit code $LASTEXITCODE)"
    }
}

Push-Location $Root
try {
    # 1. Virtual environment ------------------------------------------------------------------
    if (-not (Test-Path $VenvPython)) {
        if ($Python) {
            $launcher = @($Python -split ' ')
        } elseif (Get-Command py -ErrorAction SilentlyContinue) {
            $launcher = @('py', '-3.11')
        } else {
            $launcher = @('python')
        }
        $exe = $launcher[0]
        $launcherArgs = @($launcher | Select-Object -Skip 1)
        Invoke-Native "create $Venv with $($launcher -join ' ')" {
            & $exe @launcherArgs -m venv $Venv
        }
    }
    Invoke-Native 'Python version' { & $VenvPython --version }
    Invoke-Native 'upgrade pip' { & $VenvPython -m pip install --disable-pip-version-check --upgrade pip }
    Invoke-Native 'install the program and PyInstaller' {
        & $VenvPython -m pip install --disable-pip-version-check '.[test]' 'pyinstaller>=6.10'
    }

    # 2. Version ----------------------------------------------------------------------------------
    $init = Get-Content -Raw -Encoding UTF8 (Join-Path $Root 'govshare_desktop\__init__.py')
    if ($init -notmatch '__version__\s*=\s*"([^"]+)"') {
        throw 'no __version__ = "x.y.z" in govshare_desktop\__init__.py'
    }
    $Version = $Matches[1]
    Write-Host "version $Version"
    $Setup = Join-Path $Root "dist\govshare-desktop-$Version-setup.exe"

    # 3. One-folder build -------------------------------------------------------------------------
    Invoke-Native 'PyInstaller' {
        & $VenvPython -m PyInstaller --noconfirm --clean installer\govshare.spec
    }
    $Gui = Join-Path $Dist 'govshare-desktop.exe'
    $Cli = Join-Path $Dist 'govshare.exe'
    foreach ($path in @($Gui, $Cli, (Join-Path $Dist '_internal'))) {
        if (-not (Test-Path $path)) { throw "PyInstaller did not produce $path" }
    }

    # 4. Self-check of the build ------------------------------------------------------------------
    # govshare-desktop.exe is a windowed program without a console: it is started on its own and
    # judged by its exit code; its "smoke: ..." lines are lost. (Not redirected on purpose:
    # PyInstaller starts Python isolated, without PYTHONUTF8/PYTHONIOENCODING, so it would write
    # them to a file in the ANSI code page, and on a non-Chinese Windows such as CI's the Chinese
    # lines cannot be encoded.)
    Write-Host '==> smoke test: govshare-desktop.exe --smoke' -ForegroundColor Cyan
    $proc = Start-Process -FilePath $Gui -ArgumentList '--smoke' -PassThru
    $null = $proc.Handle  # keeps the exit code readable after the process has ended
    if (-not $proc.WaitForExit(300000)) {
        Stop-Process -Id $proc.Id -Force
        throw 'smoke test did not finish within 5 minutes'
    }
    if ($proc.ExitCode -ne 0) {
        $appLog = Join-Path $env:LOCALAPPDATA 'govshare-desktop\Logs\govshare-desktop.log'
        if (Test-Path $appLog) {
            Write-Host "last lines of $appLog"
            Get-Content -Encoding UTF8 -Tail 40 $appLog | ForEach-Object { Write-Host "    $_" }
        }
        throw "smoke test failed: govshare-desktop.exe --smoke exit code $($proc.ExitCode)"
    }
    Write-Host 'smoke test passed'

    $cliVersion = ''
    Invoke-Native 'govshare.exe --version' { $script:cliVersion = (& $Cli --version | Out-String) }
    if ($cliVersion -notmatch [regex]::Escape($Version)) {
        throw "govshare.exe --version printed '$($cliVersion.Trim())', expected $Version"
    }
    Write-Host $cliVersion.Trim()

    # 5. Installer --------------------------------------------------------------------------------
    if (-not $MakeNsis) {
        $onPath = Get-Command makensis -ErrorAction SilentlyContinue
        $candidates = @(
            $(if ($onPath) { $onPath.Source }),
            (Join-Path ${env:ProgramFiles(x86)} 'NSIS\makensis.exe'),
            (Join-Path $env:ProgramFiles 'NSIS\makensis.exe')
        ) | Where-Object { $_ -and (Test-Path $_) }
        if (-not $candidates) { throw 'makensis not found: install NSIS 3 (choco install nsis)' }
        $MakeNsis = @($candidates)[0]
    }
    Invoke-Native "makensis ($MakeNsis)" {
        & $MakeNsis "/DVERSION=$Version" "/DDIST=$Dist" "/DOUTFILE=$Setup" $Nsi
    }
    if (-not (Test-Path $Setup)) { throw "makensis did not produce $Setup" }

    $item = Get-Item $Setup
    $hash = (Get-FileHash -Algorithm SHA256 $Setup).Hash
    Write-Host ''
    Write-Host ('installer: {0}' -f $item.FullName) -ForegroundColor Green
    Write-Host ('size:      {0:N1} MB ({1:N0} bytes)' -f ($item.Length / 1MB), $item.Length)
    Write-Host ('sha256:    {0}' -f $hash)
} finally {
    Pop-Location
}
