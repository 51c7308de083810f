!> bench_cli -- command-line parsing for the benchmark drivers.
!>
!> A parser knows positional arguments (all required, in order), options that
!> take a value (`--name VALUE` or `--name=VALUE`) and flags (`--name`).
!> `-h`/`--help` prints the usage and exits 0. Any mistake (missing or extra
!> positional argument, unknown option, missing or malformed value) prints
!> "program: what is wrong" and the usage on standard error and exits 2.
module bench_cli
  use, intrinsic :: iso_fortran_env, only: output_unit, error_unit
  use coupling_strings, only: string_from_integer
  use coupling_status, only: status_stop, status_message_prefix
  implicit none
  private

  public :: cli_parser, cli_create, cli_add_positional, cli_add_option, cli_add_flag, cli_parse
  public :: cli_string, cli_integer, cli_given, cli_declared, cli_usage_error

  !> Exit code for a usage error.
  integer, parameter, public :: cli_usage_exit_code = 2

  type :: cli_argument
    character(len=:), allocatable :: name     !< "model-dir" or "--threads"
    character(len=:), allocatable :: metavar  !< placeholder for an option's value, e.g. "K"
    character(len=:), allocatable :: help     !< one-line description
    character(len=:), allocatable :: value    !< value given (or default)
    logical :: positional = .false.           !< positional argument
    logical :: takes_value = .false.          !< option with a value (false for flags)
    logical :: given = .false.                !< appeared on the command line
  end type cli_argument

  !> Description of a program's command line, and after cli_parse its values.
  type :: cli_parser
    character(len=:), allocatable :: program  !< program name for messages
    character(len=:), allocatable :: summary  !< one-line description of the program
    type(cli_argument), allocatable :: args(:)
  end type cli_parser

contains

  !> Start describing the command line of `program`.
  subroutine cli_create(cli, program, summary)
    type(cli_parser), intent(out) :: cli      !< new parser
    character(len=*), intent(in) :: program   !< program name
    character(len=*), intent(in) :: summary   !< what the program does, one line
    cli%program = program
    cli%summary = summary
    allocate (cli%args(0))
  end subroutine cli_create

  !> Add a required positional argument (they are read in the order added).
  subroutine cli_add_positional(cli, name, help)
    type(cli_parser), intent(inout) :: cli  !< parser
    character(len=*), intent(in) :: name    !< name shown as <name>
    character(len=*), intent(in) :: help    !< description
    type(cli_argument) :: arg
    arg%name = name
    arg%metavar = ""
    arg%help = help
    arg%value = ""
    arg%positional = .true.
    cli%args = [cli%args, arg]
  end subroutine cli_add_positional

  !> Add an option that takes a value, with an optional default value.
  subroutine cli_add_option(cli, name, metavar, help, default)
    type(cli_parser), intent(inout) :: cli          !< parser
    character(len=*), intent(in) :: name            !< "--name"
    character(len=*), intent(in) :: metavar         !< placeholder, e.g. "K"
    character(len=*), intent(in) :: help            !< description
    character(len=*), intent(in), optional :: default  !< value when not given
    type(cli_argument) :: arg
    arg%name = name
    arg%metavar = metavar
    arg%help = help
    arg%value = ""
    if (present(default)) arg%value = default
    arg%takes_value = .true.
    cli%args = [cli%args, arg]
  end subroutine cli_add_option

  !> Add a flag (an option without a value).
  subroutine cli_add_flag(cli, name, help)
    type(cli_parser), intent(inout) :: cli  !< parser
    character(len=*), intent(in) :: name    !< "--name"
    character(len=*), intent(in) :: help    !< description
    type(cli_argument) :: arg
    arg%name = name
    arg%metavar = ""
    arg%help = help
    arg%value = ""
    cli%args = [cli%args, arg]
  end subroutine cli_add_flag

  !> Read the program's command line. Exits 0 after --help, 2 on a mistake.
  subroutine cli_parse(cli)
    type(cli_parser), intent(inout) :: cli  !< parser, filled with the values given
    character(len=:), allocatable :: word
    integer :: i, k, eq, name_end, next_positional
    next_positional = 1
    i = 1
    do while (i <= command_argument_count())
      word = argument(i)
      i = i + 1
      if (word == "-h" .or. word == "--help") then
        call print_usage(cli, output_unit)
        call status_stop(0)
      end if
      if (len(word) > 2) then
        if (word(1:2) == "--") then
          eq = index(word, "=")
          name_end = len(word)
          if (eq > 0) name_end = eq - 1
          k = find(cli, word(1:name_end))
          if (k == 0) then
            call cli_usage_error(cli, "unknown option '" // word(1:name_end) // "'")
          else if (cli%args(k)%positional) then
            call cli_usage_error(cli, "unknown option '" // word(1:name_end) // "'")
          end if
          if (cli%args(k)%takes_value) then
            if (eq > 0) then
              cli%args(k)%value = word(eq + 1:)
            else if (i <= command_argument_count()) then
              cli%args(k)%value = argument(i)
              i = i + 1
            else
              call cli_usage_error(cli, "option " // word // " needs a value " // cli%args(k)%metavar)
            end if
          else if (eq > 0) then
            call cli_usage_error(cli, "option " // word(1:name_end) // " takes no value")
          end if
          cli%args(k)%given = .true.
          cycle
        end if
      end if
      k = nth_positional(cli, next_positional)
      if (k == 0) call cli_usage_error(cli, "unexpected argument '" // word // "'")
      cli%args(k)%value = word
      cli%args(k)%given = .true.
      next_positional = next_positional + 1
    end do
    k = nth_positional(cli, next_positional)
    if (k /= 0) call cli_usage_error(cli, "missing argument <" // cli%args(k)%name // ">")
  end subroutine cli_parse

  !> Value of a positional argument or option ("" for an option not given
  !> without default).
  function cli_string(cli, name) result(value)
    type(cli_parser), intent(in) :: cli   !< parsed command line
    character(len=*), intent(in) :: name  !< positional name or "--option"
    character(len=:), allocatable :: value  !< its value
    value = cli%args(lookup(cli, name))%value
  end function cli_string

  !> Value of a positional argument or option as an integer >= minimum.
  !> A value that is not an integer, or is below `minimum`, is a usage error.
  integer function cli_integer(cli, name, minimum) result(number)
    type(cli_parser), intent(in) :: cli      !< parsed command line
    character(len=*), intent(in) :: name     !< positional name or "--option"
    integer, intent(in), optional :: minimum !< smallest accepted value
    character(len=:), allocatable :: text, label
    integer :: ios
    text = cli_string(cli, name)
    label = name
    if (cli%args(lookup(cli, name))%positional) label = "<" // name // ">"
    read (text, *, iostat=ios) number
    if (ios /= 0 .or. len_trim(text) == 0 .or. verify(trim(text), "+-0123456789") /= 0) &
      call cli_usage_error(cli, label // " must be an integer, got '" // text // "'")
    if (present(minimum)) then
      if (number < minimum) call cli_usage_error(cli, label // " must be at least " // string_from_integer(minimum) // &
                                                 ", got " // text)
    end if
  end function cli_integer

  !> True when an option or flag appeared on the command line.
  logical function cli_given(cli, name)
    type(cli_parser), intent(in) :: cli   !< parsed command line
    character(len=*), intent(in) :: name  !< "--option"
    cli_given = cli%args(lookup(cli, name))%given
  end function cli_given

  !> True when the program declared `name` (for code shared by several programs).
  logical function cli_declared(cli, name)
    type(cli_parser), intent(in) :: cli   !< parser
    character(len=*), intent(in) :: name  !< positional name or "--option"
    cli_declared = find(cli, name) /= 0
  end function cli_declared

  !> Print "program: message" and the usage on standard error; exit 2.
  subroutine cli_usage_error(cli, message)
    type(cli_parser), intent(in) :: cli      !< parser
    character(len=*), intent(in) :: message  !< what is wrong
    write (error_unit, '(a)') status_message_prefix() // cli%program // ": " // message
    call print_usage(cli, error_unit)
    call status_stop(cli_usage_exit_code)
  end subroutine cli_usage_error

  subroutine print_usage(cli, unit)
    type(cli_parser), intent(in) :: cli
    integer, intent(in) :: unit
    character(len=:), allocatable :: line, label
    integer :: k
    line = "usage: " // cli%program
    do k = 1, size(cli%args)
      if (cli%args(k)%positional) line = line // " <" // cli%args(k)%name // ">"
    end do
    write (unit, '(a)') line // " [options]", "", cli%summary, "", "arguments:"
    do k = 1, size(cli%args)
      if (cli%args(k)%positional) write (unit, '(2x, a, t26, a)') "<" // cli%args(k)%name // ">", &
        cli%args(k)%help
    end do
    write (unit, '(a)') "options:"
    do k = 1, size(cli%args)
      if (cli%args(k)%positional) cycle
      label = cli%args(k)%name
      if (cli%args(k)%takes_value) label = label // " " // cli%args(k)%metavar
      write (unit, '(2x, a, t26, a)') label, cli%args(k)%help
    end do
    write (unit, '(2x, a, t26, a)') "-h, --help", "show this help and exit"
  end subroutine print_usage

  function argument(i) result(word)
    integer, intent(in) :: i
    character(len=:), allocatable :: word
    integer :: n
    call get_command_argument(i, length=n)
    allocate (character(len=n) :: word)
    if (n > 0) call get_command_argument(i, word)
  end function argument

  integer function find(cli, name)
    type(cli_parser), intent(in) :: cli
    character(len=*), intent(in) :: name
    do find = 1, size(cli%args)
      if (cli%args(find)%name == name) return
    end do
    find = 0
  end function find

  integer function lookup(cli, name)
    type(cli_parser), intent(in) :: cli
    character(len=*), intent(in) :: name
    lookup = find(cli, name)
    if (lookup == 0) error stop "bench_cli: the program asked for an argument it never declared"
  end function lookup

  integer function nth_positional(cli, n)
    type(cli_parser), intent(in) :: cli
    integer, intent(in) :: n
    integer :: seen
    seen = 0
    do nth_positional = 1, size(cli%args)
      if (.not. cli%args(nth_positional)%positional) cycle
      seen = seen + 1
      if (seen == n) return
    end do
    nth_positional = 0
  end function nth_positional

end module bench_cli
